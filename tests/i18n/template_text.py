"""Visible text in Django templates that is not marked for translation.

A small tokenizer, not a full parser: it splits a template into HTML tags, template tags, comments,
scripts and styles, and the text between them. A text run (text and ``{{ variables }}``) with a letter
outside its variables is visible text; inside ``{% translate %}``/``{% blocktranslate %}`` it is
marked. ``aria-label``, ``title``, ``alt`` and ``placeholder`` attributes with letters and no template
tag are visible text too. Used by ``test_translations.py`` and by the one-off tagging of templates.
"""

import re
from dataclasses import dataclass

# Tokens that are not text, longest constructs first.
TOKEN = re.compile(
    r"(?P<skip><!--.*?-->|\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}"
    r"|<script\b.*?</script>|<style\b.*?</style>|\{%\s*verbatim\s*%\}.*?\{%\s*endverbatim\s*%\}"
    r"|\{%\s*blocktrans(?:late)?\b.*?\{%\s*endblocktrans(?:late)?\s*%\}"
    r"|\{%\s*block\s+(?:body_class|head|scripts)\s*%\}.*?\{%\s*endblock\b[^%]*%\}|<code\b.*?</code>)"
    r"|(?P<tag><(?:[^>{]|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{)*>)"
    r"|(?P<block>\{%.*?%\})",
    re.DOTALL,
)
VARIABLE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
LETTER = re.compile(r"[A-Za-z]")
# An attribute's value may hold {{ variables }} (its text around them is still visible), not template tags.
ATTRIBUTE = re.compile(r'\b(aria-label|title|alt|placeholder|data-label)="((?:[^"{}]|\{\{[^{}]*\}\})*)"')
# Template tags that mark text, and blocks whose text is not for people (a select's raw values etc.).
MARKING_BLOCK = re.compile(r"\{%\s*(translate|trans)\b")


@dataclass(frozen=True)
class Text:
    start: int
    end: int
    text: str


def text_runs(source: str) -> list[Text]:
    """The text runs between tokens, with their offsets."""
    runs = []
    position = 0
    for match in TOKEN.finditer(source):
        if match.start() > position:
            runs.append(Text(position, match.start(), source[position : match.start()]))
        position = match.end()
    if position < len(source):
        runs.append(Text(position, len(source), source[position:]))
    return runs


def is_visible(text: str) -> bool:
    return bool(LETTER.search(VARIABLE.sub("", text)))


def untranslated(source: str) -> list[str]:
    """Visible text not marked for translation: text runs and the people-facing attributes."""
    found = [" ".join(run.text.split()) for run in text_runs(source) if is_visible(run.text)]
    for match in TOKEN.finditer(source):
        if match.group("tag"):
            found.extend(value for _, value in ATTRIBUTE.findall(match.group("tag")) if is_visible(value))
    return found
