import pytest
from django.urls import reverse

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
