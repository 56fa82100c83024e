from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py is loaded before the models, which these modules import.
        from accounts import demo, demo_staff, privacy
        from accounts.handlers import sync_staff_roles_after_last_app
        from cashback import demo as platform_demo

        post_migrate.connect(sync_staff_roles_after_last_app, dispatch_uid="accounts.sync_staff_roles")
        platform_demo.register(order=platform_demo.ORDER_USERS, seeder=demo.seed_demo_users)
        platform_demo.register(order=platform_demo.ORDER_CARDS, seeder=demo.seed_demo_cards)
        platform_demo.register(order=platform_demo.ORDER_USERS + 1, seeder=demo_staff.seed_demo_staff)
        privacy.register()
