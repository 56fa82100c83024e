from django.apps import AppConfig


class CharityConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "charity"
    verbose_name = "Charity"

    def ready(self) -> None:
        # Imports in ready(): apps.py is loaded before the models, which these modules import.
        from cashback import demo as platform_demo
        from cashback import events
        from charity import privacy as charity_privacy
        from charity.demo import seed_demo_charities, seed_demo_giving
        from charity.services import auto_donate_on_reward_available

        # Auto-donate: the consumer's chosen share of every reward that becomes available.
        events.subscribe("reward_available", auto_donate_on_reward_available)

        # seed_demo: the charities before the campaigns demo (an offer may name one), the giving
        # after it (the demo wallet has cashback then).
        platform_demo.register(order=platform_demo.ORDER_CHARITIES, seeder=seed_demo_charities)
        platform_demo.register(order=platform_demo.ORDER_GIVING, seeder=seed_demo_giving)
        # What the app holds about a person, for the data export and account closing (accounts.privacy_registry).
        charity_privacy.register()
