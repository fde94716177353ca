"""The pages speak the reader's language: the member's choice, else the browser's
Accept-Language, else English; lesson text keeps its own language and direction."""

from __future__ import annotations

from html import unescape
from pathlib import Path

import pytest

from crypto.signing import SigningIdentity
from federation.peers import save_peer
from governance.member_language import member_language
from node.node import Node
from node.web.app import create_app
from tests.conftest import SEED_B
from tests.web.conftest import (
    Client,
    ClientFactory,
    counts,
    lesson,
    page,
    post,
    redirected_to,
    signed_in,
)


def html_tag(text: str) -> str:
    return text[text.index("<html") : text.index(">", text.index("<html")) + 1]


@pytest.mark.parametrize(
    ("accept", "lang", "direction", "word"),
    [
        ("es-MX,es;q=0.9,en;q=0.5", "es", "ltr", "Iniciar sesión"),
        ("fr-CH, fr;q=0.9", "fr", "ltr", "Se connecter"),
        ("pt-BR", "pt", "ltr", "Entrar"),
        ("sw", "sw", "ltr", "Ingia"),
        ("ar-EG,ar;q=0.9", "ar", "rtl", "تسجيل الدخول"),
        ("de-DE,de;q=0.9", "en", "ltr", "Sign in"),  # not a hub language: English
        ("", "en", "ltr", "Sign in"),
    ],
)
async def test_the_browser_language_is_the_default(
    visitor: Client, accept: str, lang: str, direction: str, word: str
) -> None:
    response = await visitor.get("/signin", headers={"Accept-Language": accept})
    text = await response.text()
    assert html_tag(text) == f'<html lang="{lang}" dir="{direction}">'
    assert word in text
    assert response.headers["Content-Language"] == lang


async def test_a_junk_accept_language_is_english_and_harmless(visitor: Client) -> None:
    for junk in ("x" * 5000, ";;;q=abc,,", "ar;q=nope", "*"):
        response = await visitor.get("/signin", headers={"Accept-Language": junk})
        assert response.status == 200
        assert html_tag(await response.text()) == '<html lang="en" dir="ltr">'


async def test_a_member_chooses_a_language_that_beats_the_browser(
    aiohttp_client: ClientFactory, members: Node
) -> None:
    client = await aiohttp_client(create_app(members, background_sync=False))
    await signed_in(client, "amina")
    response = await post(client, "/settings/language", {"language": "ar"}, from_page="/settings")
    assert redirected_to(response) == "/settings"
    assert member_language(members.db, "amina") == "ar"
    settings = await client.get("/settings", headers={"Accept-Language": "es"})
    text = await settings.text()
    assert html_tag(text) == '<html lang="ar" dir="rtl">'
    assert "حُفظت لغتك." in text  # the flash, in the language just chosen
    # Back to the browser's language.
    await post(client, "/settings/language", {"language": "browser"}, from_page="/settings")
    assert member_language(members.db, "amina") is None
    again = await client.get("/", headers={"Accept-Language": "es"})
    assert html_tag(await again.text()) == '<html lang="es" dir="ltr">'


async def test_a_language_the_hub_does_not_speak_is_refused_and_nothing_stored(
    aiohttp_client: ClientFactory, members: Node
) -> None:
    client = await aiohttp_client(create_app(members, background_sync=False))
    await signed_in(client, "amina")
    before = counts(members)
    for bad in ("de", "ar-XX-evil", "", "<script>"):
        asked = {"language": bad}
        response = await post(client, "/settings/language", asked, from_page="/settings")
        assert response.status == 400
        assert "not a language of this hub" in await response.text()
    assert counts(members) == before
    assert member_language(members.db, "amina") is None
    assert (await client.get("/settings")).status == 200  # the node keeps serving


async def test_settings_need_a_signed_in_member(visitor: Client) -> None:
    response = await visitor.get("/settings", allow_redirects=False)
    assert response.status in (302, 303, 401)


async def test_an_error_page_explains_in_the_reader_language(client: Client) -> None:
    response = await client.get(
        "/lessons/ffffffffffff", headers={"Accept-Language": "fr", "Accept": "text/html"}
    )
    text = await response.text()
    assert response.status == 404
    assert "Introuvable" in text  # the title
    assert 'id="error-remedy"' in text  # the class's remedy, translated
    assert "Aucun enregistrement n&#39;a cet identifiant" in text


async def test_arabic_lesson_in_an_english_page_runs_right_to_left(
    client: Client, members: Node, tmp_path: Path
) -> None:
    record = lesson(
        members, tmp_path, title="دليل المراقبين القانونيين في المظاهرات", language="ar",
        tags=["سلامة"], summary="ما تعلّمناه", body="نصّ الدرس.\n",
    )  # fmt: skip
    text = await page(client, f"/lessons/{record}")
    assert html_tag(text) == '<html lang="en" dir="ltr">'
    assert '<article class="lesson" lang="ar" dir="rtl"' in text
    assert 'lang="ar" dir="auto">سلامة</a>' in text
    listed = await page(client, "/search")
    assert f'<a href="/lessons/{record}" lang="ar" dir="rtl">' in listed


async def test_the_reader_language_comes_first_among_translations(
    client: Client, members: Node, tmp_path: Path
) -> None:
    original = lesson(members, tmp_path, title="Buddy pairs", language="en")
    lesson(members, tmp_path, title="Parejas de apoyo", language="es", translation_of=original)
    lesson(members, tmp_path, title="أزواج الدعم", language="ar", translation_of=original)
    response = await client.get(f"/lessons/{original}", headers={"Accept-Language": "ar"})
    text = await response.text()
    assert 'id="in-your-language"' in text
    listing = text[text.index('id="translation-list"') :]
    assert listing.index("أزواج الدعم") < listing.index("Parejas de apoyo")
    english = await client.get(f"/lessons/{original}", headers={"Accept-Language": "en"})
    assert 'id="in-your-language"' not in await english.text()


@pytest.mark.parametrize(
    ("accept", "allowed", "denied"),
    [
        ("en", "Manila Hub is an active, trusted peer", "consent scope is local: it never leaves"),
        (
            "es",
            "Manila Hub es un par activo y de confianza",
            "el alcance del consentimiento es local",
        ),
        ("ar", "Manila Hub نظير نشط وموثوق", "نطاق الموافقة محلي: لا يغادر هذه العقدة أبدًا"),
    ],
)
async def test_the_policy_page_gives_reasons_in_the_reader_language(
    client: Client, members: Node, tmp_path: Path, accept: str, allowed: str, denied: str
) -> None:
    """Explain's reasons come from governance as templates: the page fills them in the
    reader's language, with the peer's name and the machine codes as they are."""
    manila = SigningIdentity.from_seed(SEED_B).node_id
    save_peer(members.db, manila, "Manila Hub", "Southeast Asia", "http://x.test", 0)
    record_id = lesson(members, tmp_path, consent={"scope": "local"})
    path = f"/policy?record={record_id}&peer=Manila+Hub"
    response = await client.get(path, headers={"Accept-Language": accept})
    assert response.status == 200
    text = unescape(await response.text())
    explanation = text[text.index('id="explanation"') :]
    assert allowed in explanation and denied in explanation
    assert '<code class="quiet">peer_active</code>' in explanation
    assert '<code class="quiet">scope_local</code>' in explanation
    if accept != "en":
        assert "trusted peer" not in explanation and "never leaves" not in explanation
