"""Compiling the translation files: ``locale/<language>/LC_MESSAGES/django.po`` → ``django.mo``.

The ``.po`` files are the source and are committed; the ``.mo`` files Django reads are built from
them at install time (``make install``, the Dockerfile) and at the start of every test run
(``tests/conftest.py``), so they can never be stale. Babel writes them, so no system ``gettext`` is
needed; ``makemessages`` (which does need it) is only for people adding text (docs/i18n.md).
"""

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings


def translation_files() -> list[Path]:
    return sorted(path for base in settings.LOCALE_PATHS for path in Path(base).glob("*/LC_MESSAGES/django.po"))


def translations_compile() -> list[Path]:
    """Write each ``.mo`` beside its ``.po`` (atomically: parallel test workers may do it at once)."""
    written = []
    for po_path in translation_files():
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        mo_path = po_path.with_suffix(".mo")
        handle, temporary = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
        with os.fdopen(handle, "wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        os.replace(temporary, mo_path)
        written.append(mo_path)
    return written
