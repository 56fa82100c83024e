import pytest
from django.core import mail

from notifications.models import Delivery, Notification
from notifications.selectors import unread_count
from notifications.services import notification_send, notifications_mark_read
from tests.accounts.factories import PhoneUserFactory, UserFactory
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_notification_lands_in_the_inbox_and_is_emailed_once_after_commit():
    user = UserFactory(email="ada@example.com")

    notification = notification_send(user=user, kind="test", title="Hello", body="Body", url="/wallet/")

    assert list(Notification.objects.filter(user=user)) == [notification]
    assert [(m.subject, m.to) for m in mail.outbox] == [("Hello", ["ada@example.com"])]
    assert "/wallet/" in mail.outbox[0].body
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_a_dedupe_key_sends_one_message_however_often_it_is_replayed():
    user = UserFactory()

    first = notification_send(user=user, kind="expiry", title="Expires soon", dedupe_key="expiry:1")
    again = notification_send(user=user, kind="expiry", title="Expires soon", dedupe_key="expiry:1")

    assert first.pk == again.pk
    assert Notification.objects.filter(user=user).count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.postgres  # concurrent writers: SQLite locks the table instead (concurrency is proven on PostgreSQL)
def test_concurrent_sends_with_one_key_create_one_message_and_each_caller_gets_it():
    # The key is held by INSERT ... ON CONFLICT DO NOTHING on the unique constraint (no SELECT first):
    # of callers at the same moment one inserts, the others read its row.
    user = UserFactory(email="ada@example.com")

    results = run_together(
        lambda _: notification_send(user=user, kind="reward_available", context={"amount": "1.00 NOK"}, dedupe_key="k"),
        threads=8,
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert {r.pk for r in results} == {Notification.objects.get(user=user).pk}
    assert Delivery.objects.filter(notification__user=user, channel="email").count() == 1
    assert len(mail.outbox) == 1


def test_a_user_without_email_gets_the_inbox_message_only():
    user = PhoneUserFactory()

    notification_send(user=user, kind="test", title="Hi")

    assert Notification.objects.filter(user=user).count() == 1
    assert mail.outbox == []


def test_marking_read_counts_down_the_unread():
    user = UserFactory()
    first = notification_send(user=user, kind="a", title="One")
    notification_send(user=user, kind="a", title="Two")

    assert unread_count(user=user) == 2
    assert notifications_mark_read(user=user, notification_ids=[first.pk]) == 1
    assert unread_count(user=user) == 1
    assert notifications_mark_read(user=user) == 1
    assert unread_count(user=user) == 0
