"""Data migration: create the staff role groups with their permissions (see accounts.services).

Permissions are normally created after all migrations (post_migrate), so they are created here
first for the apps installed now. Apps added later get theirs through `manage.py sync_staff_roles`.
"""

from django.db import migrations


def create_staff_roles(apps, schema_editor):
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    from accounts.services import staff_roles_sync

    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=schema_editor.connection.alias)
    staff_roles_sync()


def remove_staff_roles(apps, schema_editor):
    from accounts.services import STAFF_ROLE_PERMISSIONS

    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=list(STAFF_ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_staff_roles, remove_staff_roles)]
