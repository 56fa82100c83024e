"""Merchant e-mails (review decisions, invitations) go through notifications after commit, by id: a
mail server that fails never turns a committed change into a 500, the mail is retried, and it is sent once."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from merchants.models import Invitation, Membership, Merchant
from notifications import services as notification_services
from notifications.models import OutgoingEmail
from notifications.tasks import outgoing_email_send
from tests.merchants.factories import MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db(transaction=True)  # e-mails are queued after commit

FAILING_BACKEND = "tests.merchants.test_emails.FailingBackend"


class FailingBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def staff_with_role(db):
    """Staff with two-factor set up and the given staff role (as in tests/adminpanel/conftest.py)."""
    from django.contrib.auth.models import Group

    from accounts.services import staff_roles_sync
    from tests.accounts.factories import StaffUserFactory

    staff_roles_sync()

    def make(role: str):
        user = StaffUserFactory(mfa=True)
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


def _retry_when_due(email: OutgoingEmail) -> int:
    return notification_services.outgoing_emails_due(now=email.next_attempt_at + timedelta(seconds=1))


def test_an_smtp_error_leaves_the_approval_committed_and_the_mail_is_sent_on_retry(client, staff_with_role, settings):
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW, contact_email="owner@kaffe.example")
    client.force_login(staff_with_role("administrator"))
    settings.EMAIL_BACKEND = FAILING_BACKEND

    # when staff approve while the mail server is down
    response = client.post(reverse("adminpanel:merchant_approve", args=[merchant.pk]))

    # then the approval stands and staff get no error page
    assert response.status_code == 302
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.APPROVED
    email = OutgoingEmail.objects.get(to="owner@kaffe.example")
    assert (email.sent_at, email.attempts) == (None, 1)
    assert "SMTPServerDisconnected" in email.last_error
    assert mail.outbox == []

    # when the mail server is back and the retry is due, the mail goes out — once
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert _retry_when_due(email) == 1
    assert [(m.subject, m.to) for m in mail.outbox] == [
        (f"{merchant.display_name} is approved on Cashback", ["owner@kaffe.example"])
    ]
    email.refresh_from_db()
    assert email.sent_at is not None and email.attempts == 2
    assert outgoing_email_send(email.pk) is False
    assert notification_services.outgoing_emails_due(now=email.updated_at + timedelta(days=1)) == 0
    assert len(mail.outbox) == 1


def test_an_smtp_error_leaves_the_invitation_committed_and_the_mail_is_sent_once_on_retry(client, settings):
    merchant = MerchantFactory()
    owner = MembershipFactory(merchant=merchant, role=Membership.Role.OWNER)
    client.force_login(owner.user)
    settings.EMAIL_BACKEND = FAILING_BACKEND

    response = client.post(
        reverse("merchants:team_invite", args=[merchant.pk]), {"email": "new@kaffe.example", "role": "analyst"}
    )

    assert response.status_code in (200, 302)
    invitation = Invitation.objects.get(email="new@kaffe.example")
    email = OutgoingEmail.objects.get(key=f"merchant-invitation:{invitation.pk}")
    assert email.sent_at is None and email.last_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert _retry_when_due(email) == 1
    assert outgoing_email_send(email.pk) is False  # the task run twice sends nothing more
    [message] = mail.outbox
    assert message.to == ["new@kaffe.example"]
    accept_prefix = reverse("merchants:invitation_accept", kwargs={"token": "TOKEN"}).removesuffix("TOKEN/")
    assert accept_prefix in message.body
    email.refresh_from_db()
    assert email.body == ""  # the accept link is a secret: not kept once sent


def test_a_lost_task_is_picked_up_by_the_sweep(settings):
    # a queued mail whose task never reached a worker
    email = OutgoingEmail.objects.create(key="k:1", to="a@example.com", subject="Hi", body="Body")

    assert notification_services.outgoing_emails_due() == 0  # its own task may still be on the way
    later = email.created_at + timedelta(seconds=settings.NOTIFICATIONS_EMAIL_STALE_SECONDS + 1)
    assert notification_services.outgoing_emails_due(now=later) == 1
    assert [m.subject for m in mail.outbox] == ["Hi"]


def test_queueing_one_key_twice_sends_one_mail():
    first = notification_services.email_queue(key="k:2", to="a@example.com", subject="Hi", body="Body")
    again = notification_services.email_queue(key="k:2", to="a@example.com", subject="Hi", body="Body")

    assert first.pk == again.pk
    assert len(mail.outbox) == 1
