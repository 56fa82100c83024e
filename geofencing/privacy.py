"""The nearby-offer pushes a person was sent (shop and day), for "download my data"; erased with the account."""

from accounts.models import User
from accounts.privacy_registry import Eraser, ExportSection, Row, eraser_register, section_register
from geofencing.models import NearbyPush


def _pushes(user: User) -> list[Row]:
    return [
        {"day": push.day, "shop": push.location.name, "at": push.created_at}
        for push in NearbyPush.objects.filter(user=user).select_related("location").order_by("day", "id")
    ]


def _erase(user: User) -> dict[str, int]:
    return {"nearby_pushes_removed": NearbyPush.objects.filter(user=user).delete()[0]}


def register() -> None:
    section_register(
        ExportSection(
            name="nearby_pushes",
            title="Offers near you",
            description="The shops we told you about when your phone was near them, and the day.",
            rows=_pushes,
            covers=("geofencing.NearbyPush.user",),
            order=71,
        )
    )
    eraser_register(Eraser(name="geofencing", erase=_erase, order=71))
