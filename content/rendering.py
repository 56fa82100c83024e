"""Markdown to safe HTML: the one way content reaches a page.

markdown-it-py parses CommonMark with raw HTML switched off (any ``<tag>`` a writer types is shown
as text), then nh3 (the Ammonia sanitiser) keeps only the tags and attributes below and only
http(s), mailto and relative link targets. So no script, event handler, ``javascript:`` URL, inline
style or class reaches the page, and the site's Content-Security-Policy (``script-src 'self'``,
``style-src 'self'``) has nothing to block. Second-level headings get an ``id`` (prefixed, so a
heading can never clobber one of the page's own ids) for the page's table of contents.
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "s", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "h2": {"id"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
HEADING_ID_PREFIX = "section-"

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


@dataclass(frozen=True)
class Heading:
    anchor: str
    text: str


@dataclass(frozen=True)
class Rendered:
    html: SafeString
    headings: list[Heading]


def _anchor(text: str, taken: set[str]) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    base = HEADING_ID_PREFIX + (re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "part")
    anchor, n = base, 2
    while anchor in taken:
        anchor, n = f"{base}-{n}", n + 1
    taken.add(anchor)
    return anchor


def _heading_ids(tokens: list[Any]) -> list[Heading]:
    headings: list[Heading] = []
    taken: set[str] = set()
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            text = tokens[index + 1].content
            anchor = _anchor(text, taken)
            token.attrSet("id", anchor)
            headings.append(Heading(anchor=anchor, text=text))
    return headings


def sanitise_html(html: str) -> str:
    """Keep only the allowed tags, attributes and URL schemes; drop script and style with their text."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        clean_content_tags={"script", "style"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text: str) -> Rendered:
    """Markdown as sanitised HTML, with the second-level headings for a table of contents.

    Markdown's own headings start at ``#``; a page's title is its ``h1``, so ``#`` and ``##`` in the
    text both become ``h2`` (one level of sections), ``###`` ``h3`` and so on.
    """
    tokens = _parser.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close") and token.tag == "h1":
            token.tag = "h2"
    headings = _heading_ids(tokens)
    html = _parser.renderer.render(tokens, _parser.options, {})
    return Rendered(html=mark_safe(sanitise_html(html)), headings=headings)  # noqa: S308  # sanitised just above
