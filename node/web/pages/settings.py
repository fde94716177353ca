"""The Settings page: what a signed-in member chooses for themselves (their language)."""

from __future__ import annotations

from aiohttp import web

from node.actions import in_worker_thread
from node.actions.language import FOLLOW_BROWSER, ChooseLanguage, choose_language, language_of
from node.i18n import LANGUAGES, NATIVE_NAMES, set_language
from node.i18n import gettext as _
from node.web.auth import NotSignedIn, current_member, writing_member
from node.web.language import request_language
from node.web.pages.common import field, flash, form_of, html_page, node_of, render, see_other

routes = web.RouteTableDef()


@routes.get("/settings", name="page_settings")
@html_page
async def settings_form(request: web.Request) -> web.Response:
    node = node_of(request)
    member = await current_member(request, node)
    if member is None:
        raise NotSignedIn("sign in first")
    chosen = language_of(node, member.name) or FOLLOW_BROWSER
    context = {"chosen": chosen, "choices": _choices()}
    return await render(request, "settings.html", context)


@routes.post("/settings/language", name="page_settings_language")
@html_page
async def choose(request: web.Request) -> web.Response:
    """Store the member's language (as ``rhizome member language NAME CODE``)."""
    node = node_of(request)
    member = await writing_member(request, node)
    language = field(await form_of(request), "language", 20)
    asked = ChooseLanguage(member, member.name, language)
    await in_worker_thread(node, choose_language, asked)
    # The message is read on the next page, in the language just chosen.
    set_language(await request_language(request, node))
    await flash(request, _("Your language is saved."))
    return see_other("/settings")


def _choices() -> list[tuple[str, str]]:
    return [(FOLLOW_BROWSER, _("The browser's language")), *(
        (code, NATIVE_NAMES[code]) for code in LANGUAGES
    )]
