"""The staff money lists: payouts (all, and failed), merchant invoices and charity disbursements,
each filtered by status, currency and days, with totals per currency, for finance and administrators."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from charity.models import Disbursement
from merchants.billing_models import MerchantInvoice
from tests.accounts.factories import UserFactory
from tests.charity.factories import CharityFactory
from tests.merchants.factories import MerchantFactory
from wallet.models import Payout, PayoutAccount

pytestmark = pytest.mark.django_db

PAYOUTS = reverse("payouts_staff:list")
FAILED = reverse("payouts_staff:failed")
INVOICES = reverse("adminpanel:invoice_list")
DISBURSEMENTS = reverse("charity:staff_disbursements")


def payout(amount, currency="NOK", status="paid", **fields):
    user = UserFactory()
    account = PayoutAccount.objects.create(user=user, stripe_account_id=f"acct_{user.pk}")
    return Payout.objects.create(
        user=user,
        payout_account=account,
        stripe_account_id=account.stripe_account_id,
        amount=amount,
        currency=currency,
        status=status,
        **fields,
    )


def invoice(merchant, period, *, currency="NOK", status="open", cost=10_000, commission=1_500):
    return MerchantInvoice.objects.create(
        merchant=merchant,
        currency=currency,
        period=period,
        number=f"INV-{merchant.pk}-{currency}-{period:%Y%m}",
        status=status,
        cost_minor=cost,
        commission_minor=commission,
        total_minor=cost + commission,
        due_date=period + timedelta(days=45),
    )


def totals(response):
    return [(t.currency, t.count, t.total_minor) for t in response.context["totals"]]


@pytest.mark.parametrize("url", [PAYOUTS, FAILED, INVOICES, DISBURSEMENTS])
def test_marketing_does_not_see_the_money_lists(client, staff_with_role, url):
    client.force_login(staff_with_role("marketing"))

    assert client.get(url).status_code == 403


@pytest.mark.parametrize(("url", "status"), [(PAYOUTS, 200), (FAILED, 200), (DISBURSEMENTS, 200), (INVOICES, 403)])
def test_support_reads_payouts_and_disbursements_but_not_merchant_invoices(client, staff_with_role, url, status):
    # Support answers "where is my payout?" and "did my donation reach the charity?"; it moves no money.
    client.force_login(staff_with_role("support"))

    assert client.get(url).status_code == status


def test_payouts_filter_by_status_currency_and_day_with_totals(client, staff_with_role):
    payout(1_000)
    payout(2_000)
    payout(500, status="failed", failed_at=timezone.now(), failure_code="account_closed")
    payout(7_000, currency="SEK")
    client.force_login(staff_with_role("finance"))
    today = timezone.localdate().isoformat()

    assert totals(client.get(PAYOUTS)) == [("NOK", 3, 3_500), ("SEK", 1, 7_000)]
    assert totals(client.get(PAYOUTS, {"status": "paid", "currency": "NOK", "date_from": today})) == [("NOK", 2, 3_000)]
    assert totals(client.get(PAYOUTS, {"date_to": (timezone.localdate() - timedelta(days=1)).isoformat()})) == []
    failed = client.get(FAILED)
    assert totals(failed) == [("NOK", 1, 500)]
    assert "account_closed" in failed.content.decode()


def test_bad_filters_are_form_errors_not_500s(client, staff_with_role):
    client.force_login(staff_with_role("administrator"))

    for url in (PAYOUTS, FAILED, INVOICES, DISBURSEMENTS):
        response = client.get(url, {"date_from": "yesterday", "currency": "XXX", "status": "lost"})
        assert response.status_code == 200
        assert set(response.context["form"].errors) >= {"date_from", "currency"}


def test_invoices_filter_by_month_billed_and_total_the_commission(client, staff_with_role):
    shop, other = MerchantFactory(), MerchantFactory()
    invoice(shop, date(2026, 9, 1), status="paid")
    invoice(shop, date(2026, 10, 1))
    invoice(other, date(2026, 10, 1), commission=500)
    invoice(other, date(2026, 10, 1), currency="SEK")
    client.force_login(staff_with_role("finance"))

    october = client.get(INVOICES, {"date_from": "2026-10-01", "date_to": "2026-10-31", "currency": "NOK"})

    assert [(t.currency, t.count, t.commission_minor, t.total_minor) for t in october.context["totals"]] == [
        ("NOK", 2, 2_000, 22_000)
    ]
    assert len(october.context["page_obj"].object_list) == 2
    assert totals(client.get(INVOICES, {"status": "paid"})) == [("NOK", 1, 11_500)]


def test_disbursements_filter_and_total(client, staff_with_role):
    charity = CharityFactory()
    for period, status, amount in [(date(2026, 9, 1), "processing", 4_000), (date(2026, 10, 1), "processing", 6_000)]:
        Disbursement.objects.create(
            charity=charity,
            currency="NOK",
            period=period,
            amount_minor=amount,
            destination="acct_charity",
            idempotency_key=f"disbursement:{period}",
            status=status,
        )
    client.force_login(staff_with_role("finance"))

    assert totals(client.get(DISBURSEMENTS)) == [("NOK", 2, 10_000)]
    assert totals(client.get(DISBURSEMENTS, {"date_from": "2026-10-01"})) == [("NOK", 1, 6_000)]
