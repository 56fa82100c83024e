"""The one staff audit log: entries written in the action's transaction, append-only in the database."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.db import IntegrityError, transaction
from django.db.utils import InternalError

from accounts.models import StaffAuditEntry
from accounts.staff_audit import record_staff_action, staff_role_label
from tests.accounts.factories import StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_entry_names_the_actor_their_role_the_action_and_the_object():
    staff = StaffUserFactory()
    staff.groups.add(Group.objects.get_or_create(name="support")[0], Group.objects.get_or_create(name="finance")[0])
    person = UserFactory()

    entry = record_staff_action(
        actor=staff, action="user.block", target=person, before={"blocked": False}, after={"blocked": True}
    )

    entry.refresh_from_db()
    assert (entry.actor, entry.actor_role, entry.action) == (staff, "finance, support", "user.block")
    assert (entry.target_type, entry.target_id) == ("accounts.user", str(person.pk))
    assert (entry.before, entry.after) == ({"blocked": False}, {"blocked": True})


def test_a_superuser_is_recorded_as_administrator_and_nobody_as_no_role():
    assert staff_role_label(StaffUserFactory(is_superuser=True)) == "administrator"
    assert staff_role_label(None) == ""


def test_an_action_that_rolls_back_leaves_no_entry():
    staff = StaffUserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        record_staff_action(actor=staff, action="content.publish", target_type="content.page", target_id=7)
        raise RuntimeError("the action failed")

    assert not StaffAuditEntry.objects.exists()


def test_an_anonymous_actor_or_a_nameless_action_is_refused():
    with pytest.raises(ValueError):
        record_staff_action(actor=AnonymousUser(), action="user.view")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        record_staff_action(actor=StaffUserFactory(), action="")
    assert not StaffAuditEntry.objects.exists()


def test_an_entry_cannot_be_saved_again():
    entry = record_staff_action(actor=StaffUserFactory(), action="user.view")
    entry.summary = "changed"
    with pytest.raises(ValueError):
        entry.save()


@pytest.mark.postgres
def test_entries_cannot_be_updated_or_deleted_in_sql():
    entry = record_staff_action(actor=StaffUserFactory(), action="adjustment.approve", target_type="x", target_id=1)

    for attempt in (
        lambda: StaffAuditEntry.objects.filter(pk=entry.pk).update(action="adjustment.reject"),
        lambda: StaffAuditEntry.objects.filter(pk=entry.pk).delete(),
    ):
        with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
            attempt()

    assert StaffAuditEntry.objects.get(pk=entry.pk).action == "adjustment.approve"
