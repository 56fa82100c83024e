from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from merchants.models import MerchantStatus
from merchants.portal_registry import portal_sections
from merchants.services import AuditAction
from merchants.validators import WEEKDAYS

register = template.Library()

_STATUS_BADGES: dict[str, str] = {
    MerchantStatus.PENDING_REVIEW: "pending",
    MerchantStatus.APPROVED: "success",
    MerchantStatus.REJECTED: "danger",
    MerchantStatus.SUSPENDED: "warning",
}


@register.filter
def merchant_badge(status: str) -> str:
    """The badge colour of a merchant status (components/badge.html's ``status``)."""
    return _STATUS_BADGES.get(status, "neutral")


_INVOICE_BADGES = {
    "draft": "pending",
    "open": "processing",
    "paid": "paid",
    "payment_failed": "failed",
    "overdue": "failed",
    "void": "expired",
}


@register.filter
def invoice_badge(status: str) -> str:
    """The badge colour of an invoice status."""
    return _INVOICE_BADGES.get(status, "neutral")


@register.filter
def lookup(mapping: dict, key: str) -> object:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def audit_label(action: str) -> str:
    return AuditAction.LABELS.get(action, action)


@register.filter
def join_keys(mapping: dict) -> str:
    """The changed fields of an audit event, readable: "postcode, city"."""
    return ", ".join(str(key).replace("_", " ") for key in mapping) if isinstance(mapping, dict) else ""


@register.simple_tag
def weekdays() -> tuple:
    return WEEKDAYS


@register.filter
def breakable(value: object) -> str:
    """Escape, then allow line breaks after "@" and "." so long e-mail addresses wrap on phones."""
    text = escape(str(value))
    return mark_safe(text.replace("@", "@<wbr>").replace(".", ".<wbr>"))  # noqa: S308 - escaped above


@register.simple_tag
def registered_portal_sections(merchant_id: int) -> list[tuple[str, str, str]]:
    """The portal navigation items apps above merchants registered (merchants.portal_registry)."""
    return portal_sections(merchant_id=merchant_id)
