from django.apps import AppConfig


class ContentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "content"
    verbose_name = "Content"

    def ready(self) -> None:
        # Imports in ready(): apps.py is loaded before the models, which the demo module imports.
        from cashback import demo as platform_demo
        from content import privacy as content_privacy
        from content.demo import seed_demo_content

        # seed_demo: after the users (a demo page's history names the staff member who published it).
        platform_demo.register(order=platform_demo.ORDER_CHARITIES, seeder=seed_demo_content)
        # What the app holds about a person (accounts.privacy_registry): only who published, not exported.
        content_privacy.register()
