"""The staff pages of manual adjustments (/staff/adjustments/): who may do what, proposing through
the form (bad input is a form error), approving by a second person, the list's filters and totals."""

import pytest
from django.urls import reverse

from accounts.models import StaffAuditEntry
from tests.accounts.factories import UserFactory
from wallet.models import AccountKind, Adjustment, AdjustmentStatus, LedgerAccount

pytestmark = pytest.mark.django_db

LIST = reverse("adminpanel:adjustment_list")
NEW = reverse("adminpanel:adjustment_new")


def proposal(person, **overrides):
    return {
        "account_kind": AccountKind.CONSUMER_AVAILABLE,
        "owner_id": person.pk,
        "direction": "credit",
        "amount": "12.50",
        "currency": "NOK",
        "reason": "Missing cashback from a purchase the shop confirmed",
        **overrides,
    }


@pytest.mark.parametrize("role", ["support", "marketing", None])
def test_only_finance_and_administrators_reach_the_pages(client, staff_with_role, role):
    client.force_login(staff_with_role(role) if role else UserFactory())

    assert client.get(LIST).status_code == 403
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, proposal(UserFactory())).status_code == 403
    assert not Adjustment.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get(LIST).status_code == 302


def test_a_proposal_and_its_approval_by_another_finance_person(client, staff_with_role):
    proposer, approver, person = staff_with_role("finance"), staff_with_role("administrator"), UserFactory()
    client.force_login(proposer)

    response = client.post(NEW, proposal(person))

    adjustment = Adjustment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("adminpanel:adjustment_detail", args=[adjustment.pk])
    assert adjustment.amount_minor == 1_250
    assert adjustment.account.user == person
    page = client.get(response["Location"]).content.decode()
    assert "a different finance person or an administrator must approve" in page
    assert "Approve and post" not in page
    # The proposer's own approval is refused by the service, not only hidden.
    refused = client.post(reverse("adminpanel:adjustment_approve", args=[adjustment.pk]))
    assert refused.status_code == 403
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.PROPOSED

    client.force_login(approver)
    assert "Approve and post" in client.get(response["Location"]).content.decode()
    approved = client.post(reverse("adminpanel:adjustment_approve", args=[adjustment.pk]))

    assert approved.status_code == 302
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.APPROVED
    assert LedgerAccount.objects.get(user=person, kind=AccountKind.CONSUMER_AVAILABLE).balance == 1_250
    assert client.post(reverse("adminpanel:adjustment_approve", args=[adjustment.pk])).status_code == 409
    assert StaffAuditEntry.objects.filter(action__startswith="adjustment.").count() == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "12.345"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "1e3"}, "amount"),
        ({"amount": ""}, "amount"),
        ({"currency": "USD"}, "currency"),
        ({"direction": "sideways"}, "direction"),
        ({"reason": ""}, "reason"),
        ({"owner_id": 999_999}, "owner_id"),
        ({"account_kind": AccountKind.CHARITY_PAYABLE, "owner_id": 999_999}, "owner_id"),
        ({"account_kind": AccountKind.MERCHANT_FUNDING, "owner_id": 999_999}, "owner_id"),
        ({"account_kind": AccountKind.SETTLEMENT}, "account_kind"),
    ],
)
def test_bad_input_is_a_form_error_and_writes_nothing(client, staff_with_role, overrides, field):
    client.force_login(staff_with_role("finance"))

    response = client.post(NEW, proposal(UserFactory(), **overrides))

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Adjustment.objects.exists()
    assert not StaffAuditEntry.objects.exists()


def test_a_rejection_needs_no_note_and_posts_nothing(client, staff_with_role):
    proposer, checker = staff_with_role("finance"), staff_with_role("finance")
    client.force_login(proposer)
    client.post(NEW, proposal(UserFactory()))
    adjustment = Adjustment.objects.get()

    client.force_login(checker)
    response = client.post(reverse("adminpanel:adjustment_reject", args=[adjustment.pk]), {"note": "Duplicate"})

    assert response.status_code == 302
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.REJECTED
    assert adjustment.journal is None


def test_the_list_filters_by_status_and_currency_and_totals_what_it_shows(client, staff_with_role):
    proposer, checker = staff_with_role("finance"), staff_with_role("finance")
    client.force_login(proposer)
    client.post(NEW, proposal(UserFactory(), amount="10"))
    client.post(NEW, proposal(UserFactory(), amount="20", currency="SEK"))
    client.post(NEW, proposal(UserFactory(), amount="5", direction="debit"))
    client.force_login(checker)
    client.post(reverse("adminpanel:adjustment_reject", args=[Adjustment.objects.order_by("pk").first().pk]))

    everything = client.get(LIST)
    proposed_nok = client.get(LIST, {"status": "proposed", "currency": "NOK"})
    bad_range = client.get(LIST, {"date_from": "2026-05-02", "date_to": "2026-05-01"})

    assert [(t.currency, t.count, t.credits_minor, t.debits_minor) for t in everything.context["totals"]] == [
        ("NOK", 2, 1_000, 500),
        ("SEK", 1, 2_000, 0),
    ]
    assert [(t.currency, t.count, t.net_minor) for t in proposed_nok.context["totals"]] == [("NOK", 1, -500)]
    assert len(proposed_nok.context["page_obj"].object_list) == 1
    assert bad_range.status_code == 200
    assert "date_to" in bad_range.context["form"].errors


def test_an_unknown_adjustment_is_a_404(client, staff_with_role):
    client.force_login(staff_with_role("finance"))

    assert client.get(reverse("adminpanel:adjustment_detail", args=[404])).status_code == 404
    assert client.post(reverse("adminpanel:adjustment_approve", args=[404])).status_code == 404
