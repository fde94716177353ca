"""The interface in English, Spanish and Arabic in a real browser, at desktop and phone width.

One hub made by ``rhizome init``, an Arabic lesson with a long title added by ``rhizome
lesson add``; the admin chooses each language in turn with ``rhizome member language``
while the hub serves, and Chromium shows the pages. For each language and width a full-page
screenshot is saved in the test's folder (``screens/<lang>-<width>-<page>.png``), and the
geometry is checked: ``<html dir>`` follows the language, an Arabic interface is the mirror
of the English one (the brand on the right, the first menu entry right of the last), and the
long Arabic title wraps inside its box in the edit form instead of running out of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Browsers, Hub, serving_one_lesson
from tests.e2e.test_browser import RECORD_ID, new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
LONG_TITLE = (
    "دليل المراقبين القانونيين المتطوعين في المظاهرات السلمية: ما تعلّمناه من الميدان "
    "عن التوثيق والحماية والتواصل مع المحامين"
)
LESSON = f"""---
title: "{LONG_TITLE}"
kind: checklist
language: ar
summary: "ما يحتاجه المراقب قبل المظاهرة وأثناءها وبعدها."
tags: [سلامة, توثيق]
---
## قبل المظاهرة

- اعرف رقم المحامي واكتبه على ذراعك.
"""
WIDTHS = (1280, 390)
LANGUAGES = {"en": ("ltr", "Search"), "es": ("ltr", "Buscar"), "ar": ("rtl", "بحث")}


@pytest.fixture
def hub(tmp_path: Path, browser_ready: None) -> Iterator[Hub]:
    with serving_one_lesson(
        tmp_path, "Cairo Hub", "North Africa", "cairo admin passphrase 2026", LESSON
    ) as hub:
        yield hub


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def shoot(page: Page, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def the_arabic_lesson(page: Page, hub: Hub) -> str:
    page.goto(f"{hub.url}/search")
    page.locator("#results a[lang='ar']").first.click()
    found = RECORD_ID.search(page.url)
    assert found, page.url
    return found.group(1)


def test_pages_in_english_spanish_and_arabic_mirror_and_wrap(
    hub: Hub, browsers: Browsers, tmp_path: Path
) -> None:
    context = browsers.open("admin")
    page = new_page(context)
    sign_in(page, hub, "admin")
    record_id = the_arabic_lesson(page, hub)
    screens = tmp_path / "screens"
    brand_at: dict[tuple[str, int], dict[str, float]] = {}
    for language, (direction, search_word) in LANGUAGES.items():
        hub.rhizome("member", "language", "admin", language)  # as the operator chooses it
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{hub.url}/")
            html = page.locator("html")
            expect(html).to_have_attribute("lang", language)
            expect(html).to_have_attribute("dir", direction)
            expect(page.locator(".site-nav a[href='/search']")).to_have_text(search_word)
            brand_at[(language, width)] = box(page, ".brand")
            home = box(page, ".site-nav li:first-child a")
            last = box(page, ".site-nav a[href='/events']")
            if direction == "rtl":  # the menu starts on the right and runs leftwards
                assert home["x"] > last["x"] or home["y"] < last["y"], (language, width)
            else:
                assert home["x"] < last["x"] or home["y"] < last["y"], (language, width)
            shoot(page, screens, f"{language}-{width}-home")

            page.goto(f"{hub.url}/lessons/{record_id}")
            title = page.locator("#lesson-title")
            expect(title).to_have_text(LONG_TITLE)
            assert title.evaluate("e => getComputedStyle(e).direction") == "rtl"
            assert title.evaluate("e => e.scrollWidth <= e.clientWidth"), (language, width)
            shoot(page, screens, f"{language}-{width}-lesson")

            page.goto(f"{hub.url}/lessons/{record_id}/edit")
            field = page.locator("#title")
            expect(field).to_have_value(LONG_TITLE)
            # The field's own direction comes from what is typed in it (dir="auto").
            assert field.evaluate("e => getComputedStyle(e).direction") == "rtl"
            sizes = field.evaluate(
                "e => ({scroll: e.scrollWidth, client: e.clientWidth,"
                " right: e.getBoundingClientRect().right})"
            )
            assert sizes["scroll"] <= sizes["client"], f"title clipped: {language} {width} {sizes}"
            assert sizes["right"] <= width, f"title box runs off the page: {language} {width}"
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the form scrolls sideways by {overflow} px: {language} {width}"
            shoot(page, screens, f"{language}-{width}-edit")
    for width in WIDTHS:
        english, arabic = brand_at[("en", width)], brand_at[("ar", width)]
        # Mirrored: the brand's distance from the left edge in English is its distance from
        # the right edge in Arabic (within a few pixels of scrollbar and rounding).
        from_right = width - (arabic["x"] + arabic["width"])
        assert abs(from_right - english["x"]) <= 20, (width, english, arabic)
    assert len(list(screens.glob("*.png"))) == len(LANGUAGES) * len(WIDTHS) * 3
