"""The public pages promise only what the platform does (checked against the features that exist)."""

import pytest

pytestmark = pytest.mark.django_db


def test_how_it_works_promises_only_what_exists(client, settings):
    text = client.get("/how-it-works/").content.decode()

    # Charities are paid monthly (charity disbursements) but get no receipt from us.
    assert "with a receipt" not in text
    assert "Charities receive what was given to them every month." in text
    # The payout fee is shown before confirming (PAYOUT_FEE_MINOR, on the payout form and in the API).
    assert "You see any fee before you confirm" in text
    # Notification channels can be chosen (/wallet/notifications/preferences/).
    assert "through which channel" in text
    assert client.get("/wallet/notifications/preferences/").status_code in (200, 302)
