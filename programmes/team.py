"""The programme admin's upkeep of the team: taking a role away, with the team's history
(``FieldRoleChange``). The brand owner never loses its last programme admin."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext

from programmes.errors import InvalidProgrammeError, LastProgrammeAdminError
from programmes.models import FieldRole, FieldRoleChange, FieldRoleKind
from programmes.services import _require_role


@transaction.atomic
def field_role_remove(*, actor: FieldRole, field_role: FieldRole) -> None:
    """Take ``field_role`` away (the person no longer sees the programme pages) and record it. Refused
    for the last programme admin: the admins' rows are locked, so two admins removing each other at
    once cannot both succeed."""
    _require_role(actor, FieldRoleKind.PROGRAMME_ADMIN)
    if field_role.brand_owner_id != actor.brand_owner_id:
        raise InvalidProgrammeError(gettext("This person is not in your team."))
    admins = list(
        FieldRole.objects.select_for_update()
        .filter(brand_owner_id=actor.brand_owner_id, role=FieldRoleKind.PROGRAMME_ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    locked = FieldRole.objects.select_for_update().filter(pk=field_role.pk).first()
    if locked is None:
        return  # already removed: nothing to do twice
    if locked.role == FieldRoleKind.PROGRAMME_ADMIN and admins == [locked.pk]:
        raise LastProgrammeAdminError()
    FieldRoleChange.objects.create(
        brand_owner_id=locked.brand_owner_id,
        person_id=locked.user_id,
        actor_id=actor.user_id,
        action=FieldRoleChange.Action.REMOVED,
        role=locked.role,
    )
    locked.delete()
