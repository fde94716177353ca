"""What a member does to the node, one function each, for every front end.

The CLI, the JSON API and the web pages only read their input and show the result; the
rule of each action (who may, what is checked, what is logged) is here, once. An action is
a synchronous function of a :class:`~node.node.Node` and a typed request (naming the member
who acts), returning a typed result or raising a :class:`~crypto.errors.RhizomeError` whose
message says what went wrong. Authentication (who is asking: ``--as``, HTTP Basic, a
session and its CSRF token) stays in each front end; authorization is the action's.

A web handler runs the actions that write or purge off the event loop, each on a database
connection of its own, with :func:`in_worker_thread`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from node.node import Node

Request = TypeVar("Request")
Result = TypeVar("Result")


async def in_worker_thread(
    node: Node, action: Callable[[Node, Request], Result], request: Request
) -> Result:
    """``action(node, request)`` in a worker thread, on its own connection
    (:meth:`Node.own_connection`), so signing, indexing and purging never stall the loop."""

    def work() -> Result:
        with node.own_connection() as own:
            return action(own, request)

    return await asyncio.to_thread(work)
