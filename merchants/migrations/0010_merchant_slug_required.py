from django.db import migrations, models

import merchants.models


class Migration(migrations.Migration):
    """Schema, step 3 of 3: every merchant has a slug, unique; new rows made outside the sign-up get a
    random placeholder."""

    dependencies = [
        ("merchants", "0009_fill_merchant_slugs"),
    ]

    operations = [
        migrations.AlterField(
            model_name="merchant",
            name="slug",
            field=models.SlugField(max_length=120, unique=True, default=merchants.models.merchant_slug_placeholder),
        ),
    ]
