"""App keys shared by the web modules (kept apart so none has to import the app factory)."""

from __future__ import annotations

from aiohttp import web

from federation.background import SyncService

SYNC: web.AppKey[SyncService] = web.AppKey("sync_service", SyncService)
