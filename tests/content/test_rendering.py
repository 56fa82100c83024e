"""Markdown reaches a page only as sanitised HTML: hostile inputs, as a table and as properties."""

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content.rendering import ALLOWED_TAGS, render_markdown, sanitise_html


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)


def _collect(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def assert_safe(html: str) -> None:
    page = _collect(html)
    assert set(page.tags) <= ALLOWED_TAGS
    for tag, name, value in page.attributes:
        assert not name.startswith("on"), (tag, name)
        assert name not in ("style", "class", "src", "srcdoc", "formaction"), (tag, name)
        if name == "href":
            # A scheme as browsers parse it (WHATWG URL): leading controls and spaces dropped, tabs and
            # newlines removed, then letters, digits, "+", "-", "." before the colon; anything else
            # ("alert(1):x") is a relative URL.
            cleaned = re.sub(r"[\t\n\r]", "", value.lstrip("".join(map(chr, range(33)))))
            match = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", cleaned)
            scheme = match.group(1).lower() if match else ""
            assert scheme in ("", "http", "https", "mailto"), value
        if name == "id":
            assert value.startswith("section-"), value


HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](https://evil.example/pixel.png)",
    '<p style="color:red">red</p>',
    '<div class="button">x</div>',
    "<iframe src=https://evil.example></iframe>",
    "<style>body{display:none}</style>",
    '<form action="https://evil.example"><input name=x></form>',
    "<object data=x></object><embed src=x>",
    '[x](https://example.com "title" onmouseover="alert(1)")',
    "<details open ontoggle=alert(1)>",
    "<!-- <script>alert(1)</script> -->",
    "<<script>script>alert(1)<</script>/script>",
    "## Heading <img src=x onerror=alert(1)>",
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_renders_without_anything_that_runs_or_styles(text):
    html = render_markdown(text).html

    assert_safe(html)
    assert "<script" not in html.lower()
    assert "<img" not in html and "<iframe" not in html and "<style" not in html


@pytest.mark.parametrize("html", [h for h in HOSTILE if h.startswith("<")])
def test_the_sanitiser_alone_removes_hostile_html(html):
    # Even if the Markdown step let raw HTML through, the sanitiser would take out what is not allowed.
    cleaned = sanitise_html(html)

    assert_safe(cleaned)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**bold** and *soft*", "<p><strong>bold</strong> and <em>soft</em></p>"),
        ("[shops](/shops/)", '<a href="/shops/" rel="noopener noreferrer">shops</a>'),
        ("[mail](mailto:hi@example.com)", '<a href="mailto:hi@example.com" rel="noopener noreferrer">mail</a>'),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "<td>1</td>"),
        ("# Title\n\ntext", '<h2 id="section-title">Title</h2>'),
        ("x <b>not bold</b>", "x &lt;b&gt;not bold&lt;/b&gt;"),
    ],
)
def test_ordinary_markdown_keeps_its_meaning(text, expected):
    assert expected in render_markdown(text).html


def test_second_level_headings_make_a_table_of_contents_with_unique_prefixed_ids():
    rendered = render_markdown("## Your card\n\ntext\n\n## Your card\n\n### Detail\n\n## Ærlig talt")

    assert [(h.anchor, h.text) for h in rendered.headings] == [
        ("section-your-card", "Your card"),
        ("section-your-card-2", "Your card"),
        ("section-rlig-talt", "Ærlig talt"),  # letters without an ASCII form are left out of the id
    ]
    assert 'id="section-your-card-2"' in rendered.html


PIECES = st.sampled_from(
    [
        "<script>", "</script>", "<img src=x onerror=alert(1)>", "javascript:", "JAVASCRIPT:", "alert(1)",
        "[", "]", "(", ")", "<", ">", '"', "'", "=", "style=", "onclick=", "on", "&#", "#", "*", "`", "\n",
        "<a href=", "<svg", "data:", " ", "http://x", "![", "|", "-", ":", "&", ";", "<p ", "class=",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=30).map("".join))
def test_no_generated_text_produces_script_handlers_styles_or_unsafe_urls(text):
    assert_safe(render_markdown(text).html)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=30).map("".join))
def test_the_sanitiser_keeps_any_generated_html_safe(html):
    assert_safe(sanitise_html(html))
