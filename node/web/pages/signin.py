"""Signing in and out of the web pages.

A wrong name and a wrong password get the same answer (401, the form again) after the same
work (an unknown name is checked against a stand-in hash), so the form tells nobody which
members exist. Checking a password is deliberately slow (argon2id), so it runs in a worker
thread and only a few at a time: guessing cannot stall the pages for everyone else. After a
few failures the address and the name must wait, longer each time: the form then says for
how long (429), without checking the password (see :func:`node.web.auth.verify_sign_in`).
The sign-in form carries a CSRF token like every other form, so no other site can sign a
browser in to an account of its choosing.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from node.i18n import N_
from node.i18n import gettext as _
from node.web.auth import (
    CSRF_FIELD,
    TooManySignIns,
    csrf_token,
    current_member,
    sign_in,
    sign_out,
    verify_sign_in,
)
from node.web.pages.common import (
    CSRF_MESSAGE,
    Form,
    error_page,
    field,
    form_of,
    html_page,
    local_path,
    node_of,
    render,
    see_other,
)

routes = web.RouteTableDef()
WRONG = N_("That name and password do not match a member of this hub. Check both and try again.")
WAIT = N_("Too many attempts. Try again in {seconds} s.")


@routes.get("/signin", name="page_signin")
@html_page
async def signin_form(request: web.Request) -> web.Response:
    back = local_path(request.query.get("next"))
    return await render(request, "signin.html", {"next": back, "name": "", "error": None})


@routes.post("/signin", name="page_signin_post")
@html_page
async def signin(request: web.Request) -> web.Response:
    node = node_of(request)
    form = await form_of(request)
    back = local_path(field(form, "next", 2_000))
    if not await _csrf_ok(request, form):
        return await error_page(request, 403, _(CSRF_MESSAGE))
    name = field(form, "name", 100).strip()
    password = field(form, "password", 1_000)
    try:
        member = await verify_sign_in(request, node, name, password)
    except TooManySignIns as error:
        context = {"next": back, "name": name, "error": _(WAIT).format(seconds=error.retry_after)}
        response = await render(request, "signin.html", context, status=429)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    if member is None:
        context = {"next": back, "name": name, "error": _(WRONG)}
        return await render(request, "signin.html", context, status=401)
    await sign_in(request, member)
    return see_other(back)


@routes.post("/signout", name="page_signout")
@html_page
async def signout(request: web.Request) -> web.Response:
    if not await _csrf_ok(request, await form_of(request)):
        return await error_page(request, 403, _(CSRF_MESSAGE))
    if await current_member(request, node_of(request)) is not None:
        await sign_out(request)
    return see_other("/")


async def _csrf_ok(request: web.Request, form: Form) -> bool:
    sent = form.get(CSRF_FIELD)
    expected = await csrf_token(request)
    return isinstance(sent, str) and hmac.compare_digest(sent, expected)

