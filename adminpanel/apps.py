from django.apps import AppConfig


class AdminpanelConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "adminpanel"
    verbose_name = "Admin panel"

    def ready(self) -> None:
        # Imports in ready(): apps.py is loaded before the models, which these modules import.
        from adminpanel.demo import seed_demo_adjustments
        from cashback import demo as platform_demo

        platform_demo.register(order=platform_demo.ORDER_ADJUSTMENTS, seeder=seed_demo_adjustments)
