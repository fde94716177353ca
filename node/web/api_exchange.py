"""The JSON API of an exchange's own work: collections, evaluations, follow-ups due.

The same actions as ``rhizome collection`` and the pages; reads that open signed records
and every write run in a worker thread, each on its own connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from archive.exchange_queries import due_follow_ups
from node.actions import collections as actions
from node.actions import in_worker_thread
from node.actions.collections import ChangeCollection, CreateCollection
from node.actions.evaluations import evaluation_summary
from node.exchange_serialize import collection_json, due_json, evaluations_json
from node.node import Node
from node.web.api import NODE, challenge_basic, operator_node
from node.web.api_exchange_types import CollectionChange, CollectionInput
from node.web.auth import acting_member
from node.web.json_bodies import body_of

DUE_AHEAD = 7 * 24 * 3600
log = logging.getLogger("rhizome.api")
routes = web.RouteTableDef()


async def _read(node: Node, work: Callable[[Node], Any]) -> Any:
    def run() -> Any:
        with node.own_connection() as own:
            return work(own)

    return await asyncio.to_thread(run)


@routes.get("/api/v1/collections", name="api_collections")
@challenge_basic
async def list_collections(request: web.Request) -> web.Response:
    node = await operator_node(request)
    views = await _read(node, actions.list_collections)
    return web.json_response({"collections": [collection_json(view) for view in views]})


@routes.get("/api/v1/collections/{id}", name="api_collection")
@challenge_basic
async def show_collection(request: web.Request) -> web.Response:
    node = await operator_node(request)
    asked = request.match_info["id"]
    view = await _read(node, lambda own: actions.show_collection(own, asked))
    return web.json_response(collection_json(view))


@routes.post("/api/v1/collections", name="api_collection_add")
@challenge_basic
async def create_collection(request: web.Request) -> web.Response:
    """A new collection, signed by this hub (curators and admins)."""
    node = request.app[NODE]
    member = await acting_member(request, node, "collection.curate")
    given = await body_of(request, CollectionInput)
    asked = CreateCollection(
        member, given.name, given.cohort, given.introduction, tuple(given.lessons), given.scope,
        given.language,
    )  # fmt: skip
    record_id = await in_worker_thread(node, actions.create_collection, asked)
    log.info("collection added", extra={"record": record_id, "member": member.name})
    location = {"Location": str(request.app.router["api_collection"].url_for(id=record_id))}
    return web.json_response({"id": record_id}, status=201, headers=location)


@routes.post("/api/v1/collections/{id}/lessons", name="api_collection_change")
@challenge_basic
async def change_collection(request: web.Request) -> web.Response:
    """Add and remove lessons, rename, change the cohort or the introduction: a new version
    of the collection (curators and admins)."""
    node = request.app[NODE]
    member = await acting_member(request, node, "collection.curate")
    given = await body_of(request, CollectionChange)
    asked = ChangeCollection(
        member, request.match_info["id"], tuple(given.add), tuple(given.remove), given.position,
        given.name, given.cohort, given.introduction,
    )  # fmt: skip
    record_id = await in_worker_thread(node, actions.change_collection, asked)
    log.info("collection changed", extra={"record": record_id, "member": member.name})
    return web.json_response({"id": record_id}, status=201)


@routes.get("/api/v1/evaluations", name="api_evaluations")
@challenge_basic
async def evaluations(request: web.Request) -> web.Response:
    node = await operator_node(request)
    summary = await _read(node, evaluation_summary)
    return web.json_response(evaluations_json(summary))


@routes.get("/api/v1/follow-ups", name="api_follow_ups")
@challenge_basic
async def follow_ups(request: web.Request) -> web.Response:
    node = await operator_node(request)
    due = due_follow_ups(node.db, node.node_id, node.now() + DUE_AHEAD)  # one index range
    return web.json_response({"due": [due_json(brief) for brief in due]})
