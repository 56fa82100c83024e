"""Django admin for campaigns: staff define loyalty tiers here (F-C5); offers are read-only history."""

from django.contrib import admin

from campaigns.models import CustomerTier, Offer, OfferStatusChange, Tier


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ("rank", "name", "basis", "threshold_minor", "currency", "multiplier")
    ordering = ("rank",)


@admin.register(CustomerTier)
class CustomerTierAdmin(admin.ModelAdmin):
    list_display = ("user", "tier", "spend_12m_minor", "earned_12m_minor", "computed_at")
    list_select_related = ("user", "tier")
    readonly_fields = ("user", "tier", "spend_12m_minor", "earned_12m_minor", "computed_at")
    search_fields = ("user__email",)

    def has_add_permission(self, request) -> bool:
        return False


class OfferStatusChangeInline(admin.TabularInline):
    model = OfferStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "actor", "reason", "created_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    """Read-only: offers change through the portal and the staff review pages (services keep the history)."""

    list_display = ("title", "merchant", "status", "reward_type", "starts_at", "ends_at", "budget_spent_minor")
    list_filter = ("status", "reward_type")
    list_select_related = ("merchant",)
    search_fields = ("title", "merchant__display_name")
    inlines = (OfferStatusChangeInline,)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
