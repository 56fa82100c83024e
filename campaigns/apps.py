from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        # Card-network transaction events from the webhook inbox become purchase events.
        from campaigns.handlers import register_handlers

        register_handlers()

        # seed_demo: offers and purchases at the demo merchant, once it exists.
        from campaigns.demo import seed_demo_campaigns
        from cashback import demo as platform_demo

        platform_demo.register(order=platform_demo.ORDER_CAMPAIGNS, seeder=seed_demo_campaigns)
