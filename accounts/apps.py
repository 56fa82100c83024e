from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_staff_roles_after_last_app(sender: AppConfig, **kwargs) -> None:
    """Re-sync the staff groups once per `migrate`, after every app's permissions exist.

    Django creates permissions in post_migrate, app by app; waiting for the last app means a
    role that covers a newer app (finance → wallet, marketing → campaigns) gets its permissions
    on a fresh database without anyone remembering to run `sync_staff_roles`.
    """
    if sender is not list(apps.get_app_configs())[-1]:
        return
    from accounts.services import staff_roles_sync  # here: apps.py is loaded before the models exist

    staff_roles_sync()


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        post_migrate.connect(_sync_staff_roles_after_last_app, dispatch_uid="accounts.sync_staff_roles")
        # Imported here, not at the top: demo imports models, which need the app registry ready.
        from accounts import demo
        from cashback import demo as platform_demo

        platform_demo.register(order=platform_demo.ORDER_USERS, seeder=demo.seed_demo_users)
        platform_demo.register(order=platform_demo.ORDER_CARDS, seeder=demo.seed_demo_cards)
