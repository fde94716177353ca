"""Signing in and out of the web pages.

A wrong name and a wrong password get the same answer (401, the form again) after the same
half second, so the form tells nobody which members exist. Checking a password is deliberately
slow (argon2id), so it runs in a worker thread and only a few at a time: guessing cannot
stall the pages for everyone else. The sign-in form carries a CSRF token like every other
form, so no other site can sign a browser in to an account of its choosing.
"""

from __future__ import annotations

import asyncio
import hmac
import weakref

from aiohttp import web

from node.web.auth import (
    CSRF_FIELD,
    check_credentials,
    csrf_token,
    current_member,
    sign_in,
    sign_out,
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
FAILED_SIGN_IN_DELAY = 0.5
CONCURRENT_CHECKS = 4
WRONG = "That name and password do not match a member of this hub. Check both and try again."
_checks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


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
        return await error_page(request, 403, CSRF_MESSAGE)
    name = field(form, "name", 100).strip()
    password = field(form, "password", 1_000)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with _slots():
        member = await asyncio.to_thread(check_credentials, node, name, password)
    if member is None or not member.active:
        # Answer at the same moment for an unknown name (no hash to check) as for a wrong
        # password, so the delay does not tell which one it was.
        await asyncio.sleep(max(0.0, started + FAILED_SIGN_IN_DELAY - loop.time()))
        context = {"next": back, "name": name, "error": WRONG}
        return await render(request, "signin.html", context, status=401)
    await sign_in(request, member)
    return see_other(back)


@routes.post("/signout", name="page_signout")
@html_page
async def signout(request: web.Request) -> web.Response:
    if not await _csrf_ok(request, await form_of(request)):
        return await error_page(request, 403, CSRF_MESSAGE)
    if await current_member(request, node_of(request)) is not None:
        await sign_out(request)
    return see_other("/")


async def _csrf_ok(request: web.Request, form: Form) -> bool:
    sent = form.get(CSRF_FIELD)
    expected = await csrf_token(request)
    return isinstance(sent, str) and hmac.compare_digest(sent, expected)


def _slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _checks:
        _checks[loop] = asyncio.Semaphore(CONCURRENT_CHECKS)
    return _checks[loop]
