from django.apps import AppConfig
from django.utils.translation import gettext_noop


class InsightsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"
    verbose_name = "Merchant insights and reports"

    def ready(self) -> None:
        # Imported here: models are not loaded before ready(), and merchants/cashback cannot import us.
        from accounts.privacy_registry import not_exported_register
        from cashback.demo import ORDER_FIGURES, register
        from insights.demo import seed_demo_figures
        from insights.presentation import overview_panel
        from merchants.portal_registry import (
            register_offer_page_link,
            register_overview_panel,
            register_portal_section,
        )

        # Labels are translated when the navigation is shown (merchants.portal_registry.portal_sections).
        register_portal_section(key="insights", label=gettext_noop("Insights"), url_name="insights:dashboard", order=10)
        register_portal_section(key="reports", label=gettext_noop("Reports"), url_name="reports:index", order=20)
        register_overview_panel(key="insights", template="insights/_overview_panel.html", context=overview_panel)
        register_offer_page_link(key="insights", label="See results", url_name="insights:offer")
        # After campaigns' and charity's demo data: a year of purchases, then the figures built for it.
        register(order=ORDER_FIGURES, seeder=seed_demo_figures)
        not_exported_register(
            fields=("insights.ReportExport.requested_by",),
            reason="Which team member asked the merchant's report for: the merchant's record of its team's work, "
            "not the person's data; team members cannot close their account while on a team.",
        )
