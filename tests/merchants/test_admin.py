from decimal import Decimal

import pytest
from django.urls import reverse

from merchants.models import CommissionRate, MerchantInvoice
from merchants.services import audit_record
from tests.accounts.factories import StaffUserFactory
from tests.merchants.factories import LocationFactory, MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_mfa(client):
    client.force_login(StaffUserFactory(is_superuser=True, mfa=True))
    return client


@pytest.mark.parametrize("model", ["merchant", "membership", "invitation", "location", "auditevent"])
def test_every_merchants_model_has_an_admin_list(admin_client_mfa, model):
    merchant = MerchantFactory()
    MembershipFactory(merchant=merchant)
    LocationFactory(merchant=merchant)
    audit_record(merchant=merchant, actor=None, action="merchant.approved")

    response = admin_client_mfa.get(reverse(f"admin:merchants_{model}_changelist"), {"q": merchant.display_name})

    assert response.status_code == 200


def test_the_merchant_admin_page_opens_with_status_read_only(admin_client_mfa):
    merchant = MerchantFactory()

    response = admin_client_mfa.get(reverse("admin:merchants_merchant_change", args=[merchant.pk]))

    assert response.status_code == 200
    assert "status" not in response.context["adminform"].form.fields


def test_audit_events_cannot_be_changed_in_admin(admin_client_mfa):
    event = audit_record(merchant=MerchantFactory(), actor=None, action="merchant.approved")

    response = admin_client_mfa.post(reverse("admin:merchants_auditevent_delete", args=[event.pk]), {"post": "yes"})

    assert response.status_code == 403


def test_staff_set_a_commission_rate_in_admin_and_it_is_audited(admin_client_mfa):
    merchant = MerchantFactory()
    url = reverse("admin:merchants_commissionrate_add")

    response = admin_client_mfa.post(
        url, {"merchant": merchant.pk, "rate": "0.1250", "valid_from": "2026-01-01", "note": "Pilot"}
    )
    bad = admin_client_mfa.post(url, {"merchant": merchant.pk, "rate": "1.5", "valid_from": "2026-01-01"})

    assert response.status_code == 302 and bad.status_code == 200
    assert list(CommissionRate.objects.values_list("rate", flat=True)) == [Decimal("0.1250")]
    assert merchant.audit_events.filter(action="billing.commission_rate_set").count() == 1
    assert admin_client_mfa.get(reverse("admin:merchants_merchantinvoice_changelist")).status_code == 200
    assert MerchantInvoice.objects.count() == 0
