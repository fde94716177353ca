"""The evaluations page: this hub's exchanges and its peers' in numbers, with three plots
drawn on the server as SVG (:mod:`node.web.pages.charts`): completion and skill gain per
exchange over time, and safety incidents by category, ours against our peers'."""

from __future__ import annotations

import asyncio
import datetime as dt

from aiohttp import web
from markupsafe import Markup

from archive.details import INCIDENT_CATEGORIES
from node.actions.evaluations import EvaluationSummary, ExchangeFigures, evaluation_summary
from node.i18n import gettext as _
from node.node import Node
from node.web.pages.charts import Bar, bar_chart
from node.web.pages.common import html_page, readable, render

routes = web.RouteTableDef()


def _day(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d")


def _series(figures: ExchangeFigures) -> str:
    return "own" if figures.own else "peers"


def plots(summary: EvaluationSummary) -> dict[str, Markup]:
    """The three charts of the page, from the summed-up evaluations."""
    legend = {"own": _("This hub"), "peers": _("Peers")}
    completion = [
        Bar(_day(f.evaluation.held), f.completion * 100, _series(f),
            _("{exchange}: completion {percent}%").format(
                exchange=f.evaluation.exchange, percent=round(f.completion * 100)))
        for f in summary.exchanges
    ]  # fmt: skip
    gains = [
        Bar(_day(f.evaluation.held), gain, _series(f),
            _("{exchange}: {gain:+.1f} points").format(exchange=f.evaluation.exchange, gain=gain))
        for f in summary.exchanges
        if (gain := f.skill_gain) is not None
    ]  # fmt: skip
    largest_gain = max([abs(bar.value) for bar in gains] + [1.0])
    reach = min(4.0, float(int(largest_gain) + 1))
    incidents = []
    for category in INCIDENT_CATEGORIES:
        for series, side in (("own", summary.own), ("peers", summary.peers)):
            if count := side.incidents.get(category, 0):
                incidents.append(Bar(category, count, series, f"{category}: {count}"))
    most = max([bar.value for bar in incidents] + [1.0])
    return {
        "completion": bar_chart(
            "plot-completion", _("Completion per exchange, over time"), completion, 0, 100,
            [0, 25, 50, 75, 100], "{:g}%", legend,
        ),
        "gains": bar_chart(
            "plot-skill-gains", _("Mean self-assessed skill gain per exchange, over time"),
            gains, -reach, reach, [-reach, 0, reach], "{:+g}", legend,
        ),
        "incidents": bar_chart(
            "plot-incidents", _("Safety incidents by category"), incidents, 0, most,
            [0, most], "{:g}", legend,
        ),
    }  # fmt: skip


def _page_data(node: Node) -> tuple[EvaluationSummary, dict[str, Markup]]:
    with node.own_connection() as own:
        summary = evaluation_summary(own)
    return summary, plots(summary)


@routes.get("/evaluations", name="page_evaluations")
@html_page
async def evaluations_page(request: web.Request) -> web.Response:
    node = await readable(request)
    # Opening each signed evaluation and drawing: off the event loop.
    summary, charts = await asyncio.to_thread(_page_data, node)
    return await render(request, "evaluations.html", {"summary": summary, "charts": charts})
