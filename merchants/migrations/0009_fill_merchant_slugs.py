from django.db import migrations
from django.utils.text import slugify


# A copy of merchants.slugs at the time (a migration must not change when the app's code does).
NORDIC_LETTERS = str.maketrans({"æ": "ae", "Æ": "Ae", "ø": "o", "Ø": "O", "å": "a", "Å": "A", "ß": "ss"})


def fill_slugs(apps, schema_editor):
    """Each existing merchant gets its display name as a slug; the second of a name gets ``-2``, and so on
    (in id order, so the oldest keeps the plain name)."""
    Merchant = apps.get_model("merchants", "Merchant")
    taken: set[str] = set()
    for merchant in Merchant.objects.order_by("id").only("id", "display_name"):
        base = slugify(merchant.display_name.translate(NORDIC_LETTERS))[:112].strip("-") or f"shop-{merchant.pk}"
        candidate, number = base, 1
        while candidate in taken:
            number += 1
            candidate = f"{base}-{number}"
        taken.add(candidate)
        Merchant.objects.filter(pk=merchant.pk).update(slug=candidate)


def clear_slugs(apps, schema_editor):
    apps.get_model("merchants", "Merchant").objects.update(slug=None)


class Migration(migrations.Migration):
    """Data, step 2 of 3: a unique slug for every existing merchant."""

    dependencies = [
        ("merchants", "0008_merchant_slug"),
    ]

    operations = [migrations.RunPython(fill_slugs, clear_slugs)]
