"""Lesson bodies as HTML: Markdown rendered without raw HTML, then sanitized again.

A lesson may come from a peer, so its body is untrusted input. markdown-it renders it with
HTML turned off (``<script>`` stays text); nh3 then keeps only the tags and attributes
below and only http, https and mailto links, so even a bug in rendering cannot put script
or a tracking pixel on the page. Images are not loaded (every asset comes from the node
itself); an image shows as a link to it. Headings move one level down, below the title.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_MARKDOWN.enable(["table", "strikethrough"])


def render_body(text: str) -> str:
    """Safe HTML for a lesson body."""
    tokens = _MARKDOWN.parse(text)
    for token in tokens:
        _adapt(token)
    html = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def _adapt(token: Token) -> None:
    if token.type in ("heading_open", "heading_close"):
        token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    if token.children:
        token.children = [new for child in token.children for new in _without_images(child)]


def _without_images(token: Token) -> list[Token]:
    """An image becomes a link labelled with its alt text: we never load what a lesson
    points to, and the reader still sees that there was an image and where."""
    if token.type != "image":
        return [token]
    alt = "image: " + ("".join(child.content for child in token.children or []) or "no text")
    link = Token("link_open", "a", 1, attrs={"href": str(token.attrGet("src") or "")})
    return [link, Token("text", "", 0, content=alt), Token("link_close", "a", -1)]
