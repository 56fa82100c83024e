from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "programmes"
    verbose_name = "Business programmes"

    def ready(self) -> None:
        # Imported here: models are not loaded before ready(), and the apps below cannot import us.
        from programmes import privacy

        privacy.register()
