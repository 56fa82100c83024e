from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Imported here: apps.py is loaded before the models, which this module imports.
        from notifications import facts, privacy

        # What the inbox holds about a person, for the data export and account closing (accounts.privacy_registry).
        privacy.register()
        # The facts that become notifications (F-N2).
        facts.subscribe_all()
