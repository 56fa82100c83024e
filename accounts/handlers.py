"""Signal receivers of accounts, connected in ``AccountsConfig.ready()``."""

from django.apps import AppConfig, apps

from accounts.services import staff_roles_sync


def sync_staff_roles_after_last_app(sender: AppConfig, **kwargs) -> None:
    """Re-sync the staff groups once per `migrate`, after every app's permissions exist.

    Django creates permissions in post_migrate, app by app; waiting for the last app means a
    role that covers a newer app (finance → wallet, marketing → campaigns) gets its permissions
    on a fresh database without anyone remembering to run `sync_staff_roles`.
    """
    if sender is not list(apps.get_app_configs())[-1]:
        return
    staff_roles_sync()
