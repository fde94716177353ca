"""The Settings page: what a signed-in member chooses for themselves (their language), and,
for admins and stewards, what this hub declares it uses lessons for (as ``rhizome purposes
set``, the same action)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.purposes import InvalidPurposes
from governance.members import Member
from governance.roles import may
from node.actions import in_worker_thread
from node.actions.language import FOLLOW_BROWSER, ChooseLanguage, choose_language, language_of
from node.actions.purposes import DeclareOwnPurposes, declare_purposes, declared_purposes
from node.i18n import LANGUAGES, NATIVE_NAMES, set_language
from node.i18n import gettext as _
from node.node import Node
from node.web.auth import NotSignedIn, acting_member, current_member, writing_member
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
    context = {"chosen": chosen, "choices": _choices(), **_purposes(node, member)}
    return await render(request, "settings.html", context)


def _purposes(node: Node, member: Member, problem: str | None = None) -> dict[str, Any]:
    declared = declared_purposes(node)
    return {
        "can_declare": may(member.roles, "peer.manage"),
        "declared": declared,
        "purposes_text": " ".join(declared.purposes) if declared else "",
        "purposes_error": problem,
    }


@routes.post("/settings/purposes", name="page_settings_purposes")
@html_page
async def declare(request: web.Request) -> web.Response:
    """Declare what this hub uses lessons for; each peer is told at the next sync."""
    node = node_of(request)
    member = await acting_member(request, node, "peer.manage")
    text = field(await form_of(request), "purposes", 1000)
    words = tuple(text.replace(",", " ").split())
    try:
        await in_worker_thread(node, declare_purposes, DeclareOwnPurposes(member, words))
    except InvalidPurposes:
        chosen = language_of(node, member.name) or FOLLOW_BROWSER
        problem = _("At most 16 purposes, each at most 40 characters.")
        context = {"chosen": chosen, "choices": _choices(), **_purposes(node, member, problem),
                   "purposes_text": text}  # fmt: skip
        return await render(request, "settings.html", context, status=400)
    await flash(request, _("This hub's purposes are saved; each peer is told at the next sync."))
    return see_other("/settings")


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
