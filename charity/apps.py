from django.apps import AppConfig


class CharityConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "charity"
    verbose_name = "Charity"

    def ready(self) -> None:
        from cashback import events
        from charity.services import auto_donate_on_reward_available

        # Auto-donate: the consumer's chosen share of every reward that becomes available.
        events.subscribe("reward_available", auto_donate_on_reward_available)
