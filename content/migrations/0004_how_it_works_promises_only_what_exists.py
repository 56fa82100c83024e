"""Data migration: "How it works" promised charities a receipt with every monthly payment; the
platform pays them monthly (disbursements) but sends them no receipt (consumers get a yearly
donation receipt, which the page also says). A new published version without that promise, made
only when the published text still has the original sentence (a page staff rewrote is left alone).

A new installation gets the corrected text from 0003 already (its seed text was corrected too), so this
finds nothing to do there. Reversing keeps the version: published versions are append-only.
"""

from django.db import migrations
from django.db.models import Max

OLD = "Charities receive donations every month, with a receipt."
NEW = "Charities receive what was given to them every month."


def publish_corrected(apps, schema_editor):
    Page = apps.get_model("content", "Page")
    PageVersion = apps.get_model("content", "PageVersion")
    page = Page.objects.filter(slug="how-it-works").select_related("published").first()
    if page is None or page.published is None or OLD not in page.published.body:
        return
    number = (PageVersion.objects.filter(item=page).aggregate(top=Max("number"))["top"] or 0) + 1
    published = page.published
    version = PageVersion.objects.create(
        item=page,
        number=number,
        title=published.title,
        summary=published.summary,
        body=published.body.replace(OLD, NEW),
    )
    page.published = version
    page.body = page.body.replace(OLD, NEW)
    page.save(update_fields=["published", "body"])


class Migration(migrations.Migration):
    dependencies = [("content", "0003_seed_public_pages")]

    operations = [migrations.RunPython(publish_corrected, migrations.RunPython.noop)]
