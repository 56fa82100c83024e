"""A person's time zone: the profile's IANA name (``Europe/Oslo``), else ``settings.TIME_ZONE``."""

import zoneinfo
from functools import cache
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from accounts.models import User


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone this system knows, sorted: the choices of the profile form."""
    return tuple(sorted(zoneinfo.available_timezones()))


def validate_time_zone(value: str) -> None:
    if value and value not in time_zone_names():
        raise ValidationError(_("Choose a time zone from the list, for example Europe/Oslo."), code="invalid_time_zone")


def time_zone_of(user: "User") -> zoneinfo.ZoneInfo | None:
    """The profile's zone, or None to keep ``settings.TIME_ZONE``."""
    if not user.time_zone:
        return None
    try:
        return zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
