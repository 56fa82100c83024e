"""Reads on users, consents and linked cards for the pages and the API."""

from collections.abc import Iterable

from django.db.models import QuerySet

from accounts.models import AuditRecord, Card, Consent, DataExport, Device, User


def consent_in_force(*, user: User, kind: str) -> Consent | None:
    """The newest consent decision of ``kind`` for ``user``, or None if the person was never asked."""
    return Consent.objects.filter(user=user, kind=kind).order_by("-created_at", "-id").first()


def consents_in_force(*, user: User) -> list[Consent]:
    """The decision in force for each kind the person was asked about, in ``Consent.Kind`` order (one query)."""
    latest: dict[str, Consent] = {}
    for consent in Consent.objects.filter(user=user).order_by("-created_at", "-id"):
        latest.setdefault(consent.kind, consent)
    return [latest[kind] for kind in Consent.Kind.values if kind in latest]


def consent_history(*, user: User, limit: int = 50) -> list[Consent]:
    return list(Consent.objects.filter(user=user).order_by("-created_at", "-id")[:limit])


def active_card_by_token(token: str) -> Card | None:
    """The active card with this network token, its consumer loaded, or None (unknown token, or the
    card was removed)."""
    if not token:
        return None
    return Card.objects.select_related("user").filter(network_token=token, status=Card.Status.ACTIVE).first()


def active_cards_by_tokens(tokens: Iterable[str]) -> dict[str, Card]:
    """``active_card_by_token`` for many tokens in one query: the active cards found, by token."""
    wanted = {token for token in tokens if token}
    if not wanted:
        return {}
    cards = Card.objects.select_related("user").filter(network_token__in=wanted, status=Card.Status.ACTIVE).order_by()
    return {card.network_token: card for card in cards}


def cards_of(*, user: User) -> QuerySet[Card]:
    """The consumer's active cards, newest first."""
    return Card.objects.filter(user=user, status=Card.Status.ACTIVE).order_by("-created_at", "-id")


def card_of(*, user: User, card_id: int) -> Card | None:
    """One of the consumer's active cards, or None (someone else's card is "none" too)."""
    return cards_of(user=user).filter(pk=card_id).first()


def card_fingerprints_of(*, user_id: int) -> set[str]:
    """What identifies the cards a consumer ever linked (removed ones too): each network token, and
    BIN + last four + expiry (the same physical card enrolled again may get a new token).
    The referral programme compares these between a referrer and a friend."""
    fingerprints: set[str] = set()
    rows = Card.objects.filter(user_id=user_id).values_list(
        "network_token", "first_six", "last_four", "exp_month", "exp_year"
    )
    for token, first_six, last_four, exp_month, exp_year in rows:
        fingerprints.add(f"token:{token}")
        fingerprints.add(f"card:{first_six}:{last_four}:{exp_month:02d}/{exp_year}")
    return fingerprints


def data_export_latest(*, user: User) -> DataExport | None:
    """The person's newest data export (running, ready, failed or expired), or None."""
    return DataExport.objects.filter(user=user).order_by("-created_at", "-id").first()


def erasure_records() -> QuerySet[AuditRecord]:
    """Closed accounts, newest first (the staff panel's audit of erasures)."""
    return AuditRecord.objects.filter(action=AuditRecord.Action.ACCOUNT_ERASED).order_by("-created_at", "-id")


def consent_granted(*, user: User, kind: str) -> bool:
    """Whether the decision in force for ``kind`` is a yes."""
    consent = consent_in_force(user=user, kind=kind)
    return consent is not None and consent.granted


def consent_granted_user_ids(*, kind: str, user_ids: list[int] | None = None) -> set[int]:
    """The people whose decision in force for ``kind`` is a yes (one query), among ``user_ids`` if given."""
    rows = Consent.objects.filter(kind=kind)
    if user_ids is not None:
        rows = rows.filter(user_id__in=user_ids)
    latest: dict[int, bool] = {}
    for user_id, granted in rows.order_by("user_id", "-created_at", "-id").values_list("user_id", "granted"):
        latest.setdefault(user_id, granted)
    return {user_id for user_id, granted in latest.items() if granted}


def devices_of(*, user_id: int) -> list[Device]:
    return list(Device.objects.filter(user_id=user_id).order_by("pk"))
