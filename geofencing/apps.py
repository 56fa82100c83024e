from django.apps import AppConfig


class GeofencingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "geofencing"
    verbose_name = "Geofencing"

    def ready(self) -> None:
        # Imported here: apps.py is loaded before the models, which this module imports.
        from geofencing import privacy

        # The nearby pushes, for the data export and account closing (accounts.privacy_registry).
        privacy.register()
