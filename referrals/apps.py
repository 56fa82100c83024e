from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        # Imported here: apps.py is loaded before the models, which the handlers' modules import.
        from cashback.events import subscribe
        from referrals import handlers
        from referrals import privacy as referrals_privacy

        subscribe("user_signed_up", handlers.on_user_signed_up)
        subscribe("merchant_applied", handlers.on_merchant_applied)
        subscribe("reward_earned", handlers.on_reward_earned)
        subscribe("reward_available", handlers.on_reward_available)
        subscribe("reward_reversed", handlers.on_purchase_undone)
        subscribe("purchase_refunded", handlers.on_purchase_undone)
        subscribe("merchant_approved", handlers.on_merchant_approved)
        subscribe("offer_live", handlers.on_offer_live)
        # What the app holds about a person, for the data export and account closing (accounts.privacy_registry).
        referrals_privacy.register()
