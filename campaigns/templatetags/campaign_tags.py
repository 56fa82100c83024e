from django import template

from campaigns.models import OfferStatus

register = template.Library()

_STATUS_BADGES: dict[str, str] = {
    OfferStatus.DRAFT: "draft",
    OfferStatus.IN_REVIEW: "pending",
    OfferStatus.SCHEDULED: "scheduled",
    OfferStatus.LIVE: "live",
    OfferStatus.PAUSED: "warning",
    OfferStatus.ENDED: "ended",
}


@register.filter
def offer_badge(status: str) -> str:
    """The badge colour of an offer status (components/badge.html's ``status``)."""
    return _STATUS_BADGES.get(status, "neutral")
