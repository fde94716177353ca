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

from tests.e2e.conftest import Browsers, Hub, serving_one_lesson
from tests.e2e.test_browser import new_page, sign_in
from tests.exchange_samples import evaluation_file

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]
PLOTS = ("plot-completion", "plot-skill-gains", "plot-incidents")
EVALUATION = evaluation_file(incidents=2)


@pytest.fixture
def hub(tmp_path: Path, browser_ready: None) -> Iterator[Hub]:
    with serving_one_lesson(
        tmp_path, "Nairobi Hub", "East Africa", "nairobi admin passphrase 2026", EVALUATION
    ) as hub:
        yield hub


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
