"""A purchase page says what the purchase earned, what a refund took back and what is left, each labelled
(it once said "Earned 45.00" in its offers table where its summary said 30: gross against net, unexplained)."""

import re
from decimal import Decimal

import pytest

from campaigns.models import Purchase
from tests.accounts.factories import UserFactory
from tests.campaigns.factories import OfferFactory
from tests.campaigns.lifecycle_helpers import event

pytestmark = pytest.mark.django_db


def _figures(html: str) -> dict[str, str]:
    pairs = re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html)
    return {label.strip(): " ".join(value.split()) for label, value in pairs}


def test_a_partly_refunded_purchase_shows_earned_reversed_and_net(client):
    offer = OfferFactory(percent=Decimal("10"), title="10 % back")
    user = UserFactory()
    event(user=user, merchant=offer.merchant, kind="clearing", amount=45_000, txn="txn_a")
    event(user=user, merchant=offer.merchant, kind="refund", amount=15_000, txn="rf_a", original="txn_a")
    purchase = Purchase.objects.get(user=user)
    client.force_login(user)

    html = client.get(f"/wallet/purchases/{purchase.pk}/").content.decode()

    figures = _figures(html)
    assert figures["Earned at the purchase"] == "NOK 45.00"
    assert figures["Reversed after refunds"] == "NOK 15.00"
    assert figures["Net cashback"] == "NOK 30.00"
    assert "Earned before refunds" in html  # the offers table says which figure it shows


def test_a_purchase_that_earned_nothing_shows_no_cashback_figures(client):
    offer = OfferFactory(percent=Decimal("10"), min_spend_minor=100_000)
    user = UserFactory()
    event(user=user, merchant=offer.merchant, kind="clearing", amount=10_000, txn="txn_small")
    client.force_login(user)

    html = client.get(f"/wallet/purchases/{Purchase.objects.get(user=user).pk}/").content.decode()

    assert "Net cashback" not in html
