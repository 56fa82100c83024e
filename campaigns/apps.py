from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        # Card-network transaction events from the webhook inbox become purchase events.
        from campaigns import handlers, stripe_source

        handlers.register_handlers()
        # Payments on merchants' connected Stripe accounts become purchases too.
        stripe_source.register_handlers()
        # Names of the shops and offers behind ledger entries, for the wallet's API (which may not import campaigns).
        from campaigns.selectors import purchase_contexts
        from wallet.selectors import entry_context_provider_register

        entry_context_provider_register(causes=("purchase", "offer"), provider=purchase_contexts)
