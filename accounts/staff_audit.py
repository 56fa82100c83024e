"""The one staff audit log (F-X7): every staff action anywhere in the staff panel is recorded here.

Call ``record_staff_action`` inside the same ``transaction.atomic`` as the action, so that an action
that rolls back leaves no entry and an entry never exists without its action::

    with transaction.atomic():
        ...change the object...
        record_staff_action(actor=request.user, action="user.block", target=person,
                            summary="Blocked", before={"blocked": False}, after={"blocked": True, "reason": reason})

Reads that staff must answer for (opening a person's support page) are recorded too, outside any
write. Names of actions are ``<object>.<verb>`` in lower case (``payout.retry``, ``flag.clear``,
``content.publish``, ``role.grant``). Never put a person's name, e-mail, phone or a card number in
``summary``, ``before`` or ``after``: name objects by type and id (``target``), so erasing a person
leaves nothing to redact here.
"""

from typing import Any

from django.db import models, transaction

from accounts.models import StaffAuditEntry, User

SUMMARY_MAX = StaffAuditEntry._meta.get_field("summary").max_length or 300


def staff_role_label(user: User | None) -> str:
    """The actor's staff role(s) as recorded: "administrator" for a superuser, else the names of
    their role groups, sorted and comma-separated ("" for someone without a role)."""
    if user is None:
        return ""
    if user.is_superuser:
        return "administrator"
    return ", ".join(sorted(user.groups.values_list("name", flat=True)))


def record_staff_action(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> StaffAuditEntry:
    """Append one entry. ``target`` (a model instance) fills ``target_type`` ("app_label.model") and
    ``target_id``; pass them yourself for something that is not a row. ``actor`` None means the
    platform itself acted on a staff decision (a scheduled step); an anonymous user is refused."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        raise ValueError("An anonymous visitor cannot be the actor of a staff action.")
    if not action or len(action) > 64:
        raise ValueError("A staff action needs a name of at most 64 characters.")
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    with transaction.atomic():
        return StaffAuditEntry.objects.create(
            actor=actor,
            actor_role=staff_role_label(actor)[:100],
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            summary=summary[:SUMMARY_MAX],
            before=before,
            after=after,
        )
