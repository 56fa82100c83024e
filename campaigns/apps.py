from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        # Imports in ready(): apps.py is loaded before the models, which these modules import.
        from campaigns import billing_subscribers, handlers, merchant_cache, stripe_source
        from campaigns import privacy as campaigns_privacy
        from campaigns.demo import seed_demo_campaigns
        from campaigns.demo_shops import seed_demo_shops
        from campaigns.progress_views import wallet_home_section
        from campaigns.selectors import purchase_contexts
        from campaigns.services import reward_batch
        from cashback import batch_work
        from cashback import demo as platform_demo
        from cashback.events import subscribe
        from wallet.home_sections import register_home_section
        from wallet.selectors import entry_context_provider_register

        # The reward worker's per-merchant cache is dropped whenever an offer, challenge or tier changes.
        merchant_cache.connect_invalidation()
        # Card-network transaction events from the webhook inbox become purchase events.
        handlers.register_handlers()
        # A batch of inbox events posts its rewards and counts its offers once, at its end.
        batch_work.register(reward_batch.RewardBatch)
        # Payments on merchants' connected Stripe accounts become purchases too.
        stripe_source.register_handlers()
        # Names of the shops and offers behind ledger entries, for the wallet's API (which may not import campaigns).
        entry_context_provider_register(causes=("purchase", "offer"), provider=purchase_contexts)
        # The tier card and challenge progress on the wallet home (the wallet may not import campaigns).
        register_home_section(wallet_home_section)
        # seed_demo: offers and purchases at the demo merchant, once it exists.
        platform_demo.register(order=platform_demo.ORDER_CAMPAIGNS, seeder=seed_demo_campaigns)
        # seed_demo: partner shops across Norway for the public map and list (after the charities and tiers).
        platform_demo.register(order=platform_demo.ORDER_CAMPAIGNS + 1, seeder=seed_demo_shops)
        # What the app holds about a person, for the data export and account closing (accounts.privacy_registry).
        campaigns_privacy.register()
        # An overdue invoice pauses the merchant's offers; paying it resumes them (docs/billing.md).
        subscribe("merchant_invoice_overdue", billing_subscribers.pause_offers_on_invoice_overdue)
        subscribe("merchant_invoice_paid", billing_subscribers.resume_offers_on_invoice_paid)
