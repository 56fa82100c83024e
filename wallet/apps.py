from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class WalletConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "wallet"
    verbose_name = "Wallet"

    def ready(self) -> None:
        # Imports in ready(): apps.py is loaded before the models, which these modules import.
        from cashback.metrics import register_scrape_collector
        from wallet import metrics as wallet_metrics
        from wallet import privacy as wallet_privacy
        from wallet.payout_webhooks import register_handlers
        from wallet.services import accounts_forget

        def _forget_accounts(**kwargs: Any) -> None:
            accounts_forget()

        register_handlers()
        # Remembered account ids belong to one database: a migrated or flushed one (tests) starts again.
        post_migrate.connect(_forget_accounts, dispatch_uid="wallet_forget_accounts", weak=False)
        # What the app holds about a person, for the data export and account closing (accounts.privacy_registry).
        wallet_privacy.register()
        # Ledger postings and payouts on /metrics (docs/operations.md, "Metrics").
        register_scrape_collector(wallet_metrics.collect)
