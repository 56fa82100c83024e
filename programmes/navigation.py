"""The programmes' item in the site navigation (registered in ProgrammesConfig.ready())."""

from __future__ import annotations

from typing import TYPE_CHECKING

from programmes.selectors import has_field_roles

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User


def programmes_nav_item(user: User | AnonymousUser) -> tuple[str, str] | None:
    """ "Programmes" for a brand owner's field staff: one EXISTS query."""
    if has_field_roles(user=user):
        return ("Programmes", "programmes_entry:entry")
    return None
