from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "merchants"
    verbose_name = "Merchants"

    def ready(self) -> None:
        # Imports in ready(): apps.py is loaded before the models, which these modules import.
        from cashback import demo as platform_demo
        from cashback.context_processors import register_nav_item
        from merchants import billing_webhooks
        from merchants import privacy as merchants_privacy
        from merchants.billing_demo import seed_demo_billing
        from merchants.demo import seed_demo_merchants
        from merchants.navigation import portal_nav_item

        # The demo merchant for seed_demo (after the demo users).
        platform_demo.register(order=platform_demo.ORDER_MERCHANTS, seeder=seed_demo_merchants)
        # "Merchant portal" in the site navigation for people who work for a merchant.
        register_nav_item(portal_nav_item)
        # What the app holds about a person, for the data export and account closing (accounts.privacy_registry).
        merchants_privacy.register()
        # Paid / failed / uncollectible for the platform's invoices to merchants (docs/billing.md).
        billing_webhooks.register_handlers()
        # seed_demo: last month's statement of the demo merchant, by the monthly task (after everything else).
        platform_demo.register(order=platform_demo.ORDER_BILLING, seeder=seed_demo_billing)
