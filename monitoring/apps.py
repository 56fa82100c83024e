from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "monitoring"
    verbose_name = "Transaction monitoring"

    def ready(self) -> None:
        # Imported in ready(): the demo module imports models, which are not loaded before it.
        from cashback import demo as platform_demo
        from monitoring import privacy as monitoring_privacy
        from monitoring.demo import seed_demo_flags

        # seed_demo: flags worth looking at, raised by the rules on demo purchases (before the figures).
        platform_demo.register(order=platform_demo.ORDER_FIGURES - 1, seeder=seed_demo_flags)
        # Why fraud flags are not part of the person's data export (accounts.privacy_registry).
        monitoring_privacy.register()
