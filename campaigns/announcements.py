"""Staff announcements to a segment (F-N2): the audience, its size, sending in batches.

Only people whose marketing consent is in force are in the audience; each gets the message once
(``notifications`` keys it on the announcement), through the channels their preferences allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Consent
from accounts.staff_audit import record_staff_action
from campaigns.models import Announcement, CustomerTier, Purchase
from notifications.services import notification_send

if TYPE_CHECKING:
    from accounts.models import User

BATCH_SIZE = 500


@dataclass(frozen=True)
class Segment:
    city: str = ""
    gender: str = ""
    born_from: int | None = None
    born_to: int | None = None
    tier_id: int | None = None
    merchant_id: int | None = None


def audience(*, segment: Segment) -> QuerySet[User]:
    """Active consumers in ``segment`` whose latest marketing-consent decision is a yes."""
    latest = Consent.objects.filter(user=OuterRef("pk"), kind=Consent.Kind.MARKETING).order_by("-created_at", "-id")
    people = get_user_model().objects.filter(is_active=True, is_staff=False, erased_at__isnull=True)
    people = people.alias(consented=latest.values("granted")[:1]).filter(consented=True)
    if segment.city:
        people = people.filter(city__iexact=segment.city)
    if segment.gender:
        people = people.filter(gender=segment.gender)
    if segment.born_from is not None:
        people = people.filter(birth_year__gte=segment.born_from)
    if segment.born_to is not None:
        people = people.filter(birth_year__lte=segment.born_to)
    if segment.tier_id is not None:
        people = people.filter(Exists(CustomerTier.objects.filter(user=OuterRef("pk"), tier_id=segment.tier_id)))
    if segment.merchant_id is not None:
        people = people.filter(Exists(Purchase.objects.filter(user=OuterRef("pk"), merchant_id=segment.merchant_id)))
    return people.order_by("pk")


def segment_of(announcement: Announcement) -> Segment:
    return Segment(
        city=announcement.city,
        gender=announcement.gender,
        born_from=announcement.born_from,
        born_to=announcement.born_to,
        tier_id=announcement.tier_id,
        merchant_id=announcement.merchant_id,
    )


def announcement_send(*, actor: User, title: str, body: str, segment: Segment) -> Announcement:
    """Record the announcement (audited) and start sending it in batches after commit."""
    with transaction.atomic():
        announcement = Announcement.objects.create(
            title=title,
            body=body,
            city=segment.city,
            gender=segment.gender,
            born_from=segment.born_from,
            born_to=segment.born_to,
            tier_id=segment.tier_id,
            merchant_id=segment.merchant_id,
            audience_size=audience(segment=segment).count(),
            created_by=actor,
        )
        record_staff_action(
            actor=actor,
            action="announcement.send",
            target=announcement,
            summary=f"Announcement {title!r} to {announcement.audience_size} people",
            after={"title": title, "segment": segment.__dict__, "audience_size": announcement.audience_size},
        )
        _next_batch_on_commit(announcement.pk)
    return announcement


def _next_batch_on_commit(announcement_id: int) -> None:
    def enqueue() -> None:
        # Imported here: campaigns.tasks imports this module (a cycle within the app).
        from campaigns.tasks import announcement_batch_send

        announcement_batch_send.delay(announcement_id)

    transaction.on_commit(enqueue, robust=True)


def announcement_batch_send(*, announcement_id: int, batch_size: int = BATCH_SIZE) -> int:
    """Send the next batch; returns how many were told. Safe twice: each person's message is keyed on
    the announcement, and the batch's position moves in the same transaction."""
    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().filter(pk=announcement_id).first()
        if announcement is None or announcement.status == Announcement.Status.SENT:
            return 0
        batch = list(audience(segment=segment_of(announcement)).filter(pk__gt=announcement.after_user_id)[:batch_size])
        for person in batch:
            notification_send(
                user=person,
                kind="announcement",
                context={"title": announcement.title, "body": announcement.body},
                dedupe_key=f"announcement:{announcement.pk}",
            )
        announcement.sent_count += len(batch)
        if batch:
            announcement.after_user_id = batch[-1].pk
        if len(batch) < batch_size:
            announcement.status = Announcement.Status.SENT
        else:
            _next_batch_on_commit(announcement.pk)
        announcement.save(update_fields=["sent_count", "after_user_id", "status", "updated_at"])
    return len(batch)
