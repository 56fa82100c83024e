"""The merchant's customers: its own customer ids (partner API, Stripe) linked to consumers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from merchants.models import (
    CustomerLink,
    Merchant,
)
from merchants.selectors import consumer_by_email, customer_link_user

if TYPE_CHECKING:
    from accounts.models import User

# --- Customers of a merchant (partner API references, Stripe customers) ------------------------


def customer_link_save(
    *, merchant: Merchant, source: str, external_id: str, user: User, via: str, replace: bool = False
) -> CustomerLink:
    """Link the merchant's customer id to a consumer. An existing link to someone else is kept unless
    ``replace`` (the merchant's explicit instruction through the partner API). Safe to call twice."""
    with transaction.atomic():
        CustomerLink.objects.bulk_create(
            [CustomerLink(merchant=merchant, source=source, external_id=external_id, user=user, via=via)],
            ignore_conflicts=True,
        )
        link = CustomerLink.objects.select_for_update().get(merchant=merchant, source=source, external_id=external_id)
        if replace and link.user_id != user.pk:
            link.user = user
            link.via = via
            link.save(update_fields=["user", "via", "updated_at"])
    return link


def customer_match(*, merchant: Merchant, source: str, external_id: str = "", email: str = "") -> User | None:
    """The consumer a purchase reported by ``merchant`` belongs to, or None.

    A linked customer id wins; otherwise the one active account with that e-mail address, and then
    the id (when given) is linked to it so later purchases with only the id find them too.
    """
    user = customer_link_user(merchant_id=merchant.pk, source=source, external_id=external_id)
    if user is not None:
        return user
    user = consumer_by_email(email=email)
    if user is not None and external_id:
        # Another request may have linked the id first: the stored link decides.
        user = customer_link_save(
            merchant=merchant, source=source, external_id=external_id, user=user, via=CustomerLink.Via.EMAIL_MATCH
        ).user
    return user
