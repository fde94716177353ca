"""The collection pages: the list, one collection with its gaps explained, the forms that
create and change one, and the PDF of an offline copy. Every page calls the same actions
as ``rhizome collection``; reading a collection opens signed records, so it runs in a
worker thread like every write."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from archive.errors import InvalidLesson
from archive.record import SCOPES
from governance.roles import require
from node.actions import collections as actions
from node.actions import (
    exports,  # a module: node.export imports these pages' markdown
    in_worker_thread,
)
from node.actions.collections import ChangeCollection, CreateCollection
from node.errors import NodeError
from node.i18n import gettext as _
from node.node import Node
from node.web.auth import NotSignedIn, acting_member, current_member
from node.web.pages.common import (
    field,
    flash,
    form_of,
    html_page,
    node_of,
    readable,
    render,
    see_other,
)
from node.web.pages.markdown import render_body

routes = web.RouteTableDef()
MAX_LESSON_IDS = 200


def _ids(text: str) -> tuple[str, ...]:
    """Lesson ids or prefixes typed one per line or separated by spaces or commas."""
    ids = tuple(part for part in text.replace(",", " ").split() if part)
    if len(ids) > MAX_LESSON_IDS:
        raise web.HTTPBadRequest(reason=f"at most {MAX_LESSON_IDS} lessons at once")
    return ids


async def _curator(request: web.Request) -> None:
    """A page only curators and admins open (a read: no CSRF token is asked)."""
    member = await current_member(request, node_of(request))
    if member is None:
        raise NotSignedIn("sign in first")
    require(member.name, member.roles, "collection.curate")


async def _read(node: Node, work: Any, *args: Any) -> Any:
    """A read that opens signed records, off the event loop, on its own connection."""

    def run() -> Any:
        with node.own_connection() as own:
            return work(own, *args)

    return await asyncio.to_thread(run)


@routes.get("/collections", name="page_collections")
@html_page
async def collections_page(request: web.Request) -> web.Response:
    node = await readable(request)
    views = await _read(node, actions.list_collections)
    return await render(request, "collections.html", {"views": views})


@routes.get("/collections/new", name="page_new_collection")
@html_page
async def new_collection(request: web.Request) -> web.Response:
    await _curator(request)
    return await _form(request, {"scope": "local"})


@routes.post("/collections/new", name="page_create_collection")
@html_page
async def create_collection(request: web.Request) -> web.Response:
    node = node_of(request)
    member = await acting_member(request, node, "collection.curate")
    form = await form_of(request)
    values = {
        "name": field(form, "name", 300), "cohort": field(form, "cohort", 200),
        "introduction": field(form, "introduction", 100_000), "lessons": field(form, "lessons"),
        "scope": field(form, "scope", 20) or "local",
    }  # fmt: skip
    asked = CreateCollection(
        member, values["name"], values["cohort"], values["introduction"],
        _ids(values["lessons"]), values["scope"],
    )  # fmt: skip
    try:
        record_id = await in_worker_thread(node, actions.create_collection, asked)
    except (InvalidLesson, NodeError) as error:
        return await _form(request, values, str(error), status=error.http_status)
    await flash(request, _("Collection created, signed by this hub."))
    return see_other(f"/collections/{record_id}")


async def _form(
    request: web.Request,
    values: dict[str, str],
    error: str | None = None,
    status: int = 200,
    editing: str | None = None,  # the id of the collection edited
) -> web.Response:
    context = {"values": values, "error": error, "scopes": SCOPES, "editing": editing}
    return await render(request, "collection_form.html", context, status=status)


@routes.get("/collections/{id}/edit", name="page_edit_collection")
@html_page
async def edit_collection(request: web.Request) -> web.Response:
    """The name, cohort and introduction, to change (a new version); lessons are changed on
    the collection's page."""
    await _curator(request)
    node = node_of(request)
    view = await _read(node, actions.show_collection, request.match_info["id"])
    lesson = view.record.lesson
    values = {"name": lesson.title, "cohort": view.collection.cohort, "introduction": lesson.body}
    return await _form(request, values, editing=view.record.id_hex)


@routes.post("/collections/{id}/edit", name="page_save_collection")
@html_page
async def save_collection(request: web.Request) -> web.Response:
    node = node_of(request)
    member = await acting_member(request, node, "collection.curate")
    form = await form_of(request)
    values = {
        "name": field(form, "name", 300), "cohort": field(form, "cohort", 200),
        "introduction": field(form, "introduction", 100_000),
    }  # fmt: skip
    asked = ChangeCollection(
        member, request.match_info["id"], name=values["name"], cohort=values["cohort"],
        introduction=values["introduction"],
    )  # fmt: skip
    try:
        record_id = await in_worker_thread(node, actions.change_collection, asked)
    except (InvalidLesson, NodeError) as error:
        editing = request.match_info["id"]
        return await _form(request, values, str(error), error.http_status, editing)
    await flash(request, _("Saved a new version of the collection."))
    return see_other(f"/collections/{record_id}")


@routes.get("/collections/{id}", name="page_collection")
@html_page
async def collection_page(request: web.Request) -> web.Response:
    node = await readable(request)
    view = await _read(node, actions.show_collection, request.match_info["id"])
    introduction = render_body(view.record.lesson.body)  # sanitized: it may come from a peer
    return await render(request, "collection.html", {"view": view, "introduction": introduction})


@routes.post("/collections/{id}/add", name="page_collection_add")
@html_page
async def add_lessons(request: web.Request) -> web.Response:
    node = node_of(request)
    member = await acting_member(request, node, "collection.curate")
    form = await form_of(request)
    position = field(form, "position", 6).strip()
    if position and not position.isdigit():
        raise web.HTTPBadRequest(reason=_("the place must be a whole number (1 is first)"))
    asked = ChangeCollection(
        member, request.match_info["id"], add=_ids(field(form, "lessons")),
        position=int(position) if position else None,
    )  # fmt: skip
    return await _change(request, node, asked)


@routes.post("/collections/{id}/remove", name="page_collection_remove")
@html_page
async def remove_lesson(request: web.Request) -> web.Response:
    node = node_of(request)
    member = await acting_member(request, node, "collection.curate")
    form = await form_of(request)
    asked = ChangeCollection(member, request.match_info["id"], remove=_ids(field(form, "lesson")))
    return await _change(request, node, asked)


async def _change(request: web.Request, node: Node, asked: ChangeCollection) -> web.Response:
    record_id = await in_worker_thread(node, actions.change_collection, asked)
    await flash(request, _("Saved a new version of the collection."))
    return see_other(f"/collections/{record_id}")


@routes.get("/collections/{id}/offline.pdf", name="page_collection_pdf")
@html_page
async def collection_pdf(request: web.Request) -> web.StreamResponse:
    """The offline copy as one PDF, built in a worker thread; public lessons only."""
    node = node_of(request)
    await _curator(request)  # copies are for curators and admins

    def build(own: Node, collection: str) -> bytes:
        return exports.collection_pdf(own, collection)[0]

    try:
        data = await _read(node, build, request.match_info["id"])
    except exports.ExportRefused as error:
        await flash(request, str(error))
        return see_other(f"/collections/{request.match_info['id']}")
    return web.Response(
        body=data, content_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="collection.pdf"'},
    )  # fmt: skip
