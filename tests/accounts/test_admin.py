import pytest
from django.urls import reverse

from accounts.models import Consent, User
from tests.accounts.factories import ConsentFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_mfa(client):
    admin = StaffUserFactory(is_superuser=True, mfa=True)
    client.force_login(admin)
    return client


@pytest.mark.parametrize("query", ["findme@example.com", "+4798765432"])
def test_admin_user_search_by_email_or_phone(admin_client_mfa, query):
    UserFactory(email="findme@example.com", phone="+4798765432")
    UserFactory(email="other@example.com")

    response = admin_client_mfa.get(reverse("admin:accounts_user_changelist"), {"q": query})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list.values_list("email", flat=True)) == ["findme@example.com"]


def test_admin_consent_search_by_phone(admin_client_mfa):
    ConsentFactory(user=UserFactory(phone="+4798765432"))
    ConsentFactory()

    response = admin_client_mfa.get(reverse("admin:accounts_consent_changelist"), {"q": "+4798765432"})

    assert response.status_code == 200
    assert response.context["cl"].result_list.count() == 1


def test_admin_creates_a_phone_only_user_with_a_normalised_number(admin_client_mfa):
    response = admin_client_mfa.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "",
            "phone": "912 34 567",
            "full_name": "",
            "password1": "Long-Enough-Pass-1",
            "password2": "Long-Enough-Pass-1",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(phone="+4791234567")
    assert user.email is None


def test_admin_user_change_page_lists_consents(admin_client_mfa):
    consent = ConsentFactory(kind=Consent.Kind.MARKETING)

    response = admin_client_mfa.get(reverse("admin:accounts_user_change", args=[consent.user.pk]))

    assert response.status_code == 200
    assert "Marketing" in response.content.decode()
