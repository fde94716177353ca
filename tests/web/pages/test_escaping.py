"""Lesson text is data, never markup: titles, summaries, tags, snippets and bodies are
escaped or sanitized on every page, whoever wrote them."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from node.node import Node
from node.web.pages.markdown import render_body
from tests.web.conftest import Client, lesson, page

SCRIPT = "<script>alert(1)</script>"


class Tags(HTMLParser):
    """Every start tag of an HTML fragment, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


async def test_a_script_in_a_title_is_shown_as_text_everywhere(
    client: Client, members: Node, tmp_path: Path
) -> None:
    record_id = lesson(
        members, tmp_path, title=f"Alert {SCRIPT}", summary=f"Sum {SCRIPT}", tags=["x<b>y"],
        body=f"Text with {SCRIPT} in it.",
    )  # fmt: skip
    for path in ("/", "/search", "/search?q=alert", f"/lessons/{record_id}", "/events"):
        text = await page(client, path)
        assert "<script" not in text, path
        assert "<b>y" not in text, path
    lesson_page = await page(client, f"/lessons/{record_id}")
    assert f"Alert {ESCAPED}" in lesson_page
    assert f"Text with {ESCAPED} in it." in lesson_page


async def test_snippets_are_escaped_before_hits_are_marked(
    client: Client, members: Node, tmp_path: Path
) -> None:
    lesson(members, tmp_path, title="Markup", body='Press <img src=x onerror="alert(1)"> press.')
    text = await page(client, "/search?q=press")
    results = text[text.index('id="results"') :]
    assert "<img" not in results
    assert "&lt;img src=x onerror=" in results
    assert "<mark>Press</mark>" in results


def test_markdown_bodies_keep_formatting_and_lose_everything_dangerous() -> None:
    html = render_body(
        "# Title\n\nSome **bold** and [a link](https://example.org).\n\n"
        "[bad](javascript:alert(1)) <img src=x onerror=alert(1)> <iframe src=x></iframe>\n\n"
        "![a pixel](https://tracker.example/p.png)\n\n"
        '<a href="https://example.org" onclick="x()">raw</a>\n'
    )
    assert "<h2>Title</h2>" in html  # below the page's own title
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.org"' in html and 'rel="noopener noreferrer nofollow"' in html
    tags = Tags()
    tags.feed(html)
    assert {tag for tag, _ in tags.found} <= {"h2", "p", "strong", "a"}
    for _, attributes in tags.found:
        assert not [name for name in attributes if name.startswith("on")]
        assert attributes.get("href", "https:").startswith("https:")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as the text it is
    # An image is never loaded: it becomes a link that says what it was.
    assert '<a href="https://tracker.example/p.png"' in html and "image: a pixel" in html
