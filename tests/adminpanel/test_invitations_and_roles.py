"""Staff create accounts and invite people by e-mail or SMS (F-A2); administrators manage staff roles."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.models import StaffAuditEntry, StaffInvitation, User
from cashback.providers.sms import FakeSmsClient
from notifications.models import OutgoingEmail
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-passphrase-42"


def _link_path(text: str) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/invitation/\S+/)", text).group(1)


@pytest.fixture
def sms_outbox():
    FakeSmsClient.clear()
    yield FakeSmsClient.outbox
    FakeSmsClient.clear()


@pytest.fixture
def support(client, staff_with_role):
    user = staff_with_role("support")
    client.force_login(user)
    return user


def test_support_creates_an_account_invited_by_email_and_the_person_sets_a_password(
    client, support, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("adminpanel:user_create"),
            {"full_name": "Nora Lie", "email": "nora@example.com", "phone": "", "channel": "email"},
        )

    person = User.objects.get(email="nora@example.com")
    assert response.status_code == 302 and response.url == reverse("adminpanel:user_detail", args=[person.pk])
    assert not person.has_usable_password()
    mail = OutgoingEmail.objects.get(to="nora@example.com")
    assert mail.secret
    assert set(StaffAuditEntry.objects.filter(actor=support).values_list("action", flat=True)) == {
        "user.create",
        "user.invite",
    }

    client.logout()
    path = _link_path(mail.body)
    assert client.get(path).status_code == 200
    done = client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302 and done.url == reverse("account_login")
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    used = client.get(path)
    assert used.status_code == 410 and b"expired or was already used" in used.content


def test_an_sms_invitation_is_sent_by_a_task_once_and_verifies_the_phone(
    client, support, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("adminpanel:user_create"), {"phone": "912 34 567", "channel": "sms", "email": ""})

    person = User.objects.get(phone="+4791234567")
    assert len(sms_outbox) == 1
    from adminpanel.tasks import invitation_sms_send

    assert invitation_sms_send(StaffInvitation.objects.get(user=person).pk) is False  # safe twice
    assert len(sms_outbox) == 1
    client.logout()
    client.post(_link_path(sms_outbox[0].body), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD) and person.phone_verified


def test_bad_input_is_a_form_error_and_creates_nothing(client, support):
    UserFactory(email="taken@example.com")
    url = reverse("adminpanel:user_create")

    taken = client.post(url, {"email": "TAKEN@example.com", "channel": "email"})
    no_phone = client.post(url, {"email": "x@example.com", "channel": "sms"})
    bad_phone = client.post(url, {"phone": "12", "channel": "sms"})

    assert [r.status_code for r in (taken, no_phone, bad_phone)] == [400, 400, 400]
    assert b"already has an account" in taken.content and b"needs a phone number" in no_phone.content
    assert User.objects.count() == 2 and not StaffInvitation.objects.exists()


def test_a_forged_or_expired_link_is_refused(client, support):
    client.post(reverse("adminpanel:user_create"), {"email": "old@example.com", "channel": "email"})
    path = _link_path(OutgoingEmail.objects.get().body)
    client.logout()

    assert client.get(path[:-3] + "xx/").status_code == 404
    StaffInvitation.objects.update(expires_at=timezone.now())
    assert client.get(path).status_code == 410
    assert client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 410


def test_a_new_invitation_makes_the_earlier_link_stop_working(client, support):
    client.post(reverse("adminpanel:user_create"), {"email": "again@example.com", "channel": "email"})
    person = User.objects.get(email="again@example.com")
    first = _link_path(OutgoingEmail.objects.get().body)

    client.post(reverse("adminpanel:user_invite", args=[person.pk]), {"channel": "email"})

    second = _link_path(OutgoingEmail.objects.exclude(body__contains=first).get().body)
    client.logout()
    assert client.get(first).status_code == 410 and client.get(second).status_code == 200


# --- Staff roles -----------------------------------------------------------------------------------


def test_an_administrator_gives_and_takes_roles_and_it_is_audited(client, staff_with_role):
    admin = staff_with_role("administrator")
    client.force_login(admin)
    person = UserFactory(email="new.staff@example.com")

    found = client.post(reverse("adminpanel:role_list"), {"email": "NEW.STAFF@example.com"})
    assert found.url == reverse("adminpanel:role_edit", args=[person.pk])
    client.post(found.url, {"roles": ["finance", "support"]})

    person.refresh_from_db()
    assert person.is_staff and set(person.groups.values_list("name", flat=True)) == {"finance", "support"}
    entry = StaffAuditEntry.objects.get(action="role.change")
    assert entry.before == {"roles": [], "is_staff": False}
    assert entry.after == {"roles": ["finance", "support"], "is_staff": True}
    assert b"finance, support" in client.get(reverse("adminpanel:role_list")).content

    client.post(found.url, {})
    person.refresh_from_db()
    assert not person.is_staff and not person.groups.exists()


def test_roles_refuse_unknown_names_and_an_administrator_removing_their_own(client, staff_with_role):
    admin = staff_with_role("administrator")
    client.force_login(admin)

    unknown = client.post(reverse("adminpanel:role_edit", args=[UserFactory().pk]), {"roles": ["god"]})
    own = client.post(reverse("adminpanel:role_edit", args=[admin.pk]), {"roles": ["support"]})

    assert unknown.status_code == 400
    assert own.status_code == 409 and b"cannot take the administrator role from yourself" in own.content
    assert admin.groups.filter(name="administrator").exists()
    assert not StaffAuditEntry.objects.filter(action="role.change").exists()


def test_only_administrators_manage_roles(client, staff_with_role):
    client.force_login(staff_with_role("finance"))
    person = UserFactory()

    assert client.post(reverse("adminpanel:role_edit", args=[person.pk]), {"roles": ["finance"]}).status_code == 403
    assert not Group.objects.filter(user=person).exists()
    assert PASSWORD
