from django.db import migrations, models


class Migration(migrations.Migration):
    """Schema, step 1 of 3: the column, empty for existing rows (0009 fills it, 0010 makes it required)."""

    dependencies = [
        ("merchants", "0007_partnerrequest_updated_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="merchant",
            name="slug",
            field=models.SlugField(max_length=120, null=True),
        ),
    ]
