from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "programmes"
    verbose_name = "Business programmes"

    def ready(self) -> None:
        # Imported here: models are not loaded before ready(), and the apps below cannot import us.
        from campaigns.merchant_cache import purchase_watcher_register
        from cashback.context_processors import register_nav_item
        from cashback.demo import ORDER_PROGRAMMES, register
        from cashback.events import subscribe
        from programmes import privacy
        from programmes.achievement import purchase_achievement_apply
        from programmes.action_sources import profile_completed_report, referral_bonus_report
        from programmes.demo import seed_demo_programmes
        from programmes.linked_sources import linked_purchase_apply, sources_watched
        from programmes.navigation import programmes_nav_item
        from programmes.wallet_section import wallet_home_section
        from wallet.home_sections import register_home_section

        subscribe("purchase_recorded", purchase_achievement_apply)
        subscribe("purchase_recorded", linked_purchase_apply)
        purchase_watcher_register(sources_watched)
        subscribe("profile_completed", profile_completed_report)
        subscribe("referral_bonus_paid", referral_bonus_report)
        privacy.register()
        register_nav_item(programmes_nav_item)
        register_home_section(wallet_home_section)
        # After the demo users and merchants (the staff reviewer approves the brand owner), before billing.
        register(order=ORDER_PROGRAMMES, seeder=seed_demo_programmes)
