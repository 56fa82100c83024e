from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "merchants"
    verbose_name = "Merchants"

    def ready(self) -> None:
        # Payments on merchants' connected Stripe accounts become purchases (webhook inbox handlers).
        from merchants import stripe_source

        stripe_source.register_handlers()
