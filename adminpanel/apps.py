from django.apps import AppConfig


class AdminpanelConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "adminpanel"
    verbose_name = "Admin panel"

    def ready(self) -> None:
        # Imported here: apps.py is loaded before the models the demo module imports.
        from adminpanel import demo
        from cashback import demo as platform_demo

        platform_demo.register(order=platform_demo.ORDER_MERCHANTS + 1, seeder=demo.seed_demo_merchant_staff)
        platform_demo.register(order=platform_demo.ORDER_ADJUSTMENTS, seeder=demo.seed_demo_adjustments)
