from django.apps import AppConfig


class InsightsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"
    verbose_name = "Merchant insights and reports"

    def ready(self) -> None:
        # Imports in ready(): apps.py is loaded before the models, which merchants.navigation's module imports.
        from merchants.navigation import register_portal_section

        # "Reports" in the merchant portal's navigation (docs/reports.md).
        register_portal_section(key="reports", label="Reports", url_name="reports:index")
