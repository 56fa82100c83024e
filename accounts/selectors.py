"""Reads on users and consents for the pages and the API."""

from accounts.models import Consent, User


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
