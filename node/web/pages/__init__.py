"""The web pages: server-rendered HTML for operators and curators, working without JavaScript.

Every page is built from the same functions the CLI calls, so a rule lives in one place.
``create_app`` sets up the templates and the session layer and adds :data:`routes`.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from node.web.pages import (
    attachments,
    collections,
    consent,
    evaluations,
    home,
    lesson_form,
    lessons,
    logs,
    peers,
    review,
    settings,
    signin,
    status,
    wipe,
)
from node.web.pages.words import FILTERS

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent.parent / "static"

# lesson_form first: /lessons/new must match before /lessons/{id}.
routes: list[web.AbstractRouteDef] = [
    *lesson_form.routes,
    *home.routes,
    *lessons.routes,
    *consent.routes,
    *attachments.routes,
    *review.routes,
    *peers.routes,
    *logs.routes,
    *signin.routes,
    *status.routes,
    *settings.routes,
    *wipe.routes,
    *collections.routes,  # /collections/new is declared before /collections/{id}
    *evaluations.routes,
]

__all__ = ["FILTERS", "STATIC", "TEMPLATES", "routes"]
