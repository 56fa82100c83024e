"""Giving and taking staff roles (administrators only, at /staff/roles/): each change is audited
with the roles before and after. The roles and their permissions are
``accounts.services.STAFF_ROLE_PERMISSIONS``; a person with any role is staff (``is_staff``)."""

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.errors import InvalidStaffRoleError, OwnAdministratorRoleError
from accounts.models import User
from accounts.services import ADMINISTRATOR, STAFF_ROLE_PERMISSIONS
from accounts.staff_audit import record_staff_action

STAFF_ROLES: tuple[str, ...] = tuple(STAFF_ROLE_PERMISSIONS)


def staff_roles_of(user: User) -> list[str]:
    """The user's staff roles, sorted (reads ``user.groups.all()``, so a prefetch serves a list of people)."""
    return sorted(group.name for group in user.groups.all() if group.name in STAFF_ROLES)


def staff_roles_set(*, user: User, roles: Iterable[str], actor: User) -> User:
    """Give ``user`` exactly ``roles`` (other groups are kept); ``is_staff`` follows (a superuser stays staff).

    Refuses an unknown role and an administrator taking the administrator role from themselves (so
    the platform is never left without one by accident)."""
    wanted = sorted(set(roles))
    unknown = [role for role in wanted if role not in STAFF_ROLES]
    if unknown:
        raise InvalidStaffRoleError(
            fields={"roles": [_("Unknown role: %(unknown)s.") % {"unknown": ", ".join(unknown)}]}
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        roles_before = staff_roles_of(locked)
        before = {"roles": roles_before, "is_staff": locked.is_staff}
        if locked.pk == actor.pk and ADMINISTRATOR in roles_before and ADMINISTRATOR not in wanted:
            raise OwnAdministratorRoleError(fields={"roles": [OwnAdministratorRoleError.default_message]})
        groups = {group.name: group for group in Group.objects.filter(name__in=STAFF_ROLES)}
        locked.groups.remove(*[groups[name] for name in roles_before if name not in wanted and name in groups])
        locked.groups.add(*[groups[name] for name in wanted if name in groups])
        locked.is_staff = bool(wanted) or locked.is_superuser
        locked.save(update_fields=["is_staff", "updated_at"])
        after = {"roles": wanted, "is_staff": locked.is_staff}
        if after != before:
            record_staff_action(
                actor=actor,
                action="role.change",
                target=locked,
                summary=f"Staff roles: {', '.join(wanted) or 'none'}",
                before=before,
                after=after,
            )
    user.is_staff = locked.is_staff
    return user
