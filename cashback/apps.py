from importlib import import_module

from django.apps import AppConfig, apps
from django.contrib.admin.apps import SimpleAdminConfig
from django.utils.module_loading import module_has_submodule


class CashbackConfig(AppConfig):
    # Picked for "cashback" in INSTALLED_APPS although this module holds other AppConfig classes.
    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "cashback"
    verbose_name = "Platform"

    def ready(self) -> None:
        # Imports in ready(): apps.py is loaded before the models, which these modules import.
        from django.core import checks

        from cashback import batch_work, events, inbox, metrics_scrape
        from cashback.keyed_ids import external_id_key_check
        from cashback.metrics import register_scrape_collector
        from cashback.sealed_text import field_encryption_keys_check

        checks.register(external_id_key_check)
        checks.register(field_encryption_keys_check)
        # The inbox's lag and backlog and the Celery queues' depth on /metrics (docs/operations.md).
        register_scrape_collector(metrics_scrape.inbox_collect)
        register_scrape_collector(metrics_scrape.queues_collect)

        # A card or shop registered after its events arrived: re-process the unmatched ones.
        events.subscribe("card_linked", inbox.unmatched_retry_on_fact)
        events.subscribe("location_registered", inbox.unmatched_retry_on_fact)
        # A batch of inbox events records the facts it announces at its end, in two statements.
        batch_work.register(events.FactBatch)


class PlatformAdminConfig(SimpleAdminConfig):
    """Django admin with autodiscovery that skips django-leaflet's admin module.

    leaflet.admin imports GeoDjango, which needs the GDAL system library; the platform
    stores coordinates as plain decimals and uses only leaflet's template tags and static
    files, so it must start on a machine without GDAL.
    """

    skipped_admin_modules = frozenset({"leaflet"})

    def ready(self) -> None:
        super().ready()
        for app_config in apps.get_app_configs():
            if app_config.name in self.skipped_admin_modules:
                continue
            if module_has_submodule(app_config.module, "admin"):
                import_module(f"{app_config.name}.admin")
