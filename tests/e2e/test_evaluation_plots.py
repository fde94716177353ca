"""The evaluations page in a real browser: its three plots, drawn as SVG on the server, are
present and visible without any script, at desktop and phone width.

One hub made by ``rhizome init``, with an evaluation added by ``rhizome lesson add`` as an
operator would; Chromium renders the page and we check each plot's box and its bars.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Browsers, Hub, make_hub
from tests.e2e.test_browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]
PLOTS = ("plot-completion", "plot-skill-gains", "plot-incidents")
EVALUATION = """---
title: Evaluation of the Nairobi track
kind: evaluation
evaluation:
  exchange: Legal observer track, Nairobi 2027
  held: 2027-03-10
  participants: 24
  completed: 21
  action_plans: 18
  skills:
    - skill: de-escalation
      before: [2, 8, 9, 4, 1]
      after: [0, 1, 6, 11, 6]
  incidents:
    - category: harassment
      count: 2
---
It went well.
"""


@pytest.fixture
def hub(tmp_path: Path, browser_ready: None) -> Iterator[Hub]:
    root = tmp_path / "hubs"  # where the browsers look for the keys they trust
    root.mkdir()
    made = make_hub(root, "Nairobi Hub", "East Africa")
    made.add_member("admin", "admin", "nairobi admin passphrase 2026")
    lesson = tmp_path / "evaluation.md"
    lesson.write_text(EVALUATION, encoding="utf-8")
    made.rhizome("lesson", "add", str(lesson))
    made.start()
    try:
        yield made
    finally:
        made.stop()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_evaluation_plots_render_and_show(hub: Hub, browsers: Browsers, width: int) -> None:
    page = new_page(browsers.open("admin"))
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, hub, "admin", "/evaluations")
    for plot in PLOTS:
        svg = page.locator(f"svg#{plot}")
        expect(svg).to_be_visible()
        box = svg.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50, (plot, box)
        assert box["x"] + box["width"] <= width + 1, f"{plot} overflows at {width} px"
        bar = svg.locator("rect.bar").first
        expect(bar).to_be_visible()
        bar_box = bar.bounding_box()
        assert bar_box is not None and bar_box["height"] > 1, (plot, bar_box)
    expect(page.locator("svg#plot-completion title").first).to_have_text(
        "Completion per exchange, over time"
    )
    expect(page.locator("#evaluation-aggregates")).to_contain_text("88%")
