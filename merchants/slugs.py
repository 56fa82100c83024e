"""Merchants' slugs: the readable part of the public page's address (``/shops/<slug>/``).

A slug is made from the display name at sign-up and then kept, even when the name changes, so links
people shared keep working. Rows made outside the sign-up service (benchmarks, bulk imports) get a
random placeholder from the field's default, which is unique without a lookup.
"""

from django.utils.text import slugify

from merchants.models import Merchant, merchant_slug_placeholder

MAX_SLUG_LENGTH = 120
# Letters slugify would drop (it keeps only what decomposes to ASCII): "Grønn Kurv" → "gronn-kurv".
NORDIC_LETTERS = str.maketrans({"æ": "ae", "Æ": "Ae", "ø": "o", "Ø": "O", "å": "a", "Å": "A", "ß": "ss"})


def slug_text(display_name: str) -> str:
    """The name in URL form, Nordic letters spelt out; at most ``MAX_SLUG_LENGTH - 8`` characters (room for ``-n``)."""
    return slugify(display_name.translate(NORDIC_LETTERS))[: MAX_SLUG_LENGTH - 8].strip("-")


def merchant_slug_from_name(display_name: str) -> str:
    """A slug for a new merchant: its name in URL form, with ``-2``, ``-3``… when that is taken.

    Two sign-ups with the same name at the same moment may both pick one slug; the unique constraint
    then refuses the second, as it refuses a duplicate organisation number.
    """
    base = slug_text(display_name) or merchant_slug_placeholder()
    taken = set(
        Merchant.objects.filter(slug__startswith=base).values_list("slug", flat=True),
    )
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate
