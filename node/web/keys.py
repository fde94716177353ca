"""App keys shared by the web modules (kept apart so none has to import the app factory)."""

from __future__ import annotations

from aiohttp import web

from federation.background import SyncService

SYNC: web.AppKey[SyncService] = web.AppKey("sync_service", SyncService)


def wake_outbox(app: web.Application) -> None:
    """Tell the running node's sync service the outbox holds something new (a withdrawal
    goes to every holder now, not at the next poll); nothing when the app runs without one."""
    service = app.get(SYNC)
    if service is not None:
        service.on_outbox()
