from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import Card, Consent, User
from accounts.validators import phone_number_normalize
from cashback.card_guard import VALIDATED_PHONE_FIELDS
from cashback.forms import CardNumberGuardMixin

if TYPE_CHECKING:
    # The mixin is only ever mixed into forms; the checker needs to know that.
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class _PhoneCleaningMixin(_FormBase):
    def clean_phone(self) -> str | None:
        phone = self.cleaned_data.get("phone")
        return phone_number_normalize(phone) if phone else None

    def clean_email(self) -> str | None:
        email = self.cleaned_data.get("email")
        return User.objects.normalize_email(email).lower() if email else None

    def clean(self) -> dict[str, Any]:
        # Form.clean returns self.cleaned_data; the stubs allow None for overrides that return nothing.
        super().clean()
        cleaned_data = self.cleaned_data
        if not cleaned_data.get("email") and not cleaned_data.get("phone") and not self.errors:
            raise ValidationError(_("Give the user an email address or a phone number."))
        return cleaned_data


class UserCreationForm(CardNumberGuardMixin, _PhoneCleaningMixin, BaseUserCreationForm):
    phone_fields = VALIDATED_PHONE_FIELDS  # clean_phone above

    class Meta:
        model = User
        fields = ("email", "phone", "full_name")


class UserChangeForm(CardNumberGuardMixin, _PhoneCleaningMixin, DjangoUserChangeForm):
    phone_fields = VALIDATED_PHONE_FIELDS  # clean_phone above

    class Meta:
        model = User
        fields = "__all__"
        field_classes: dict[str, type[forms.Field]] = {}


class ConsentInline(admin.TabularInline):
    model = Consent
    extra = 0
    can_delete = False
    fields = ("kind", "granted", "version", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ("__str__", "email", "phone", "phone_verified", "full_name", "is_staff", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "phone_verified", "groups")
    search_fields = ("email", "phone", "full_name")
    ordering = ("-date_joined",)
    readonly_fields = ("last_login", "date_joined", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("email", "phone", "phone_verified", "password")}),
        ("Profile", {"fields": ("full_name", "birth_year", "gender", "city", "language")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "phone", "full_name", "password1", "password2")}),
    )
    inlines = [ConsentInline]

    def get_inlines(self, request, obj):
        # A new user has no consents yet; the person gives them when signing up or on the profile page.
        return self.inlines if obj is not None else []


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    """Consents are history: readable by staff, never edited (a change is a new row made by the person)."""

    list_display = ("user", "kind", "granted", "version", "created_at")
    list_filter = ("kind", "granted", "version")
    search_fields = ("user__email", "user__phone")
    list_select_related = ("user",)
    readonly_fields = ("user", "kind", "granted", "version", "created_at", "updated_at")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    """Linked cards: token, first six, last four and expiry only (there is no card number to show)."""

    list_display = ("__str__", "user", "first_six", "last_four", "exp_month", "exp_year", "status", "created_at")
    list_filter = ("status", "scheme")
    search_fields = ("user__email", "last_four", "network_token")
    raw_id_fields = ("user",)
    readonly_fields = ("network_token", "first_six", "last_four", "exp_month", "exp_year", "scheme", "created_at")
