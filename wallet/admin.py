"""The ledger in Django admin, read-only: every write goes through wallet.services."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from wallet.models import Entry, Hold, JournalTransaction, LedgerAccount


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "owner_key", "kind", "currency", "balance", "pending_debits", "allows_negative"]
    list_filter = ["kind", "currency", "allows_negative"]
    search_fields = ["owner_key", "user__email"]
    list_select_related = ["user"]


class EntryInline(admin.TabularInline):
    model = Entry
    # A tuple: the admin's declared types accept it for both attributes (a list is invariant).
    fields = readonly_fields = ("account", "direction", "amount", "currency")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(JournalTransaction)
class JournalTransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "idempotency_key", "memo", "source_type", "source_id", "created_at"]
    list_filter = ["kind"]
    search_fields = ["idempotency_key", "source_id"]
    date_hierarchy = "created_at"
    inlines = [EntryInline]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "transaction", "account", "direction", "amount", "currency", "created_at"]
    list_filter = ["direction", "currency"]
    list_select_related = ["transaction", "account"]


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "counterparty", "amount", "currency", "status", "expires_at", "posted_amount"]
    list_filter = ["status", "currency"]
    list_select_related = ["account", "counterparty"]
    search_fields = ["idempotency_key"]
