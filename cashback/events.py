"""Facts after commit: how a domain app tells later apps that something happened (an outbox).

ARCHITECTURE.md keeps app dependencies acyclic (campaigns may not import referrals, say), yet
referrals must learn that a reward became available. The earlier app ``announce``s a fact; later
apps ``subscribe`` to it in their ``AppConfig.ready()``. Not Django signals: the list of facts is
written down here, and an unknown name is an error rather than silence.

``announce`` runs no subscriber. In the caller's transaction it records a ``Fact`` row and one
``FactDelivery`` row per subscriber; once that transaction commits, one task per delivery
(``cashback.tasks.fact_deliver``) runs the subscriber in its own transaction. So a subscriber's
failure never rolls back or blocks the announcer (which may hold purchase, reward and ledger locks):
the delivery is marked failed with the error, retried with backoff by the beat sweep
``facts_deliver_due`` (which also picks up deliveries whose task was lost), and listed for staff at
/staff/facts/ with a retry button. A delivery runs at least once, so every subscriber must be
idempotent by its own keys (a ledger post keyed on the reward, say); marking it done commits with
the subscriber's work, so a done delivery is never run again.

A subscriber is a module-level function, identified by its dotted path so any worker can import it.
It is called with the fact's keyword arguments, plus ``fact_id=`` when its signature names that
parameter (for a subscriber whose only natural key is the fact itself, e.g. ``autodonate:fact:<id>``).

Facts (keyword arguments are ids and plain values, never model instances):

- ``card_linked``          user_id, card_id
- ``user_signed_up``       user_id, referral_code, ip, device_id   (code typed or remembered from a link; may be "";
                           the device id is its keyed hash, accounts.visitor.device_id)
- ``merchant_applied``     merchant_id, referral_code   (the code of a /partners/?ref= link; may be "")
- ``location_registered``  location_id, merchant_id   (network ids set or changed)
- ``merchant_approved``    merchant_id
- ``offer_live``           offer_id, merchant_id
- ``reward_earned``        reward_id, user_id, purchase_id, amount_minor, currency
- ``reward_available``     reward_id, user_id, purchase_id, amount_minor, currency
- ``reward_reversed``      reward_id, user_id, purchase_id, amount_minor, currency
- ``purchase_refunded``    purchase_id, user_id
- ``merchant_invoice_overdue``  merchant_id, invoice_id, invoice_number   (its live offers pause; docs/billing.md)
- ``merchant_invoice_paid``     merchant_id, invoice_id   (an overdue invoice was paid: offers paused for it resume)
- ``cashback_spent``       user_id, journal_id, amount_minor, currency, merchant_name   (a checkout captured a spend
                           hold; announced again on a replay, so subscribers key on the journal)
- ``donation_made``        user_id, charity_id, charity_name, journal_id, amount_minor, currency
- ``challenge_progress``   user_id, challenge_id, challenge_title, stage ("half_way" | "reached"), percent
- ``tier_changed``         user_id, tier_id, tier_name, previous_name   (a consumer reached a (new) tier)
- ``payout_settled``       user_id, payout_id, outcome ("paid" | "failed"), amount_minor, currency, reason
                           (Stripe paid it out, or it failed and the money is back; a paid payout may
                           later fail: once per payout and outcome)
- ``statement_published``  user_id, statement_id, period ("2026-10"), period_label, currency,
                           opening_minor, closing_minor   (a finished month's statement is stored; once per statement)
- ``cashback_expiring``    user_id, entry_id, amount_minor, currency, expires_on (ISO date)   (the oldest
                           cashback credit still unused expires within REWARD_EXPIRY_WARNING_DAYS; once per credit)
- ``profile_completed``    user_id   (name, birthday, gender and city all given for the first time; once per person)
- ``purchase_recorded``    purchase_id, user_id, merchant_id   (a purchase with line items, or a card or Stripe
                           purchase, was recorded or changed: lines, refunds, reversal; programmes counts it
                           towards sales targets)
- ``referral_bonus_paid``  user_id, key, journal_id, amount_minor, currency, memo   (a referral bonus was
                           posted under the ledger key ``key``; once per key)

A fact that would otherwise be told again by a daily sweep or a replay (``cashback_expiring``, say) is
announced with ``once_key=``: unique per fact (a database constraint), so a second announcement records
nothing and delivers nothing, and ``announce`` returns False.
"""

import inspect
import logging
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from cashback import batch_scope, batch_work
from cashback.backoff import retry_delay
from cashback.models import DeliveryStatus, Fact, FactDelivery

logger = logging.getLogger(__name__)

FACTS = frozenset(
    {
        "card_linked",
        "user_signed_up",
        "merchant_applied",
        "location_registered",
        "merchant_approved",
        "offer_live",
        "reward_earned",
        "reward_available",
        "reward_reversed",
        "purchase_refunded",
        "merchant_invoice_overdue",
        "merchant_invoice_paid",
        "cashback_spent",
        "donation_made",
        "challenge_progress",
        "tier_changed",
        "payout_settled",
        "statement_published",
        "cashback_expiring",
        "referral_bonus_paid",
        "profile_completed",
        "purchase_recorded",
    }
)

# Each fact's subscribers, as dotted paths, in subscription order.
_subscribers: dict[str, list[str]] = {name: [] for name in FACTS}

MAX_ERROR_CHARS = 10_000


class UnregisteredSubscriberError(LookupError):
    """A delivery names a subscriber that is not (or no longer) subscribed to its fact."""


def _require_known(fact: str) -> None:
    if fact not in FACTS:
        raise ValueError(f"Unknown fact {fact!r}; add it to cashback.events.FACTS with its arguments.")


def subscriber_path(subscriber: Callable[..., Any]) -> str:
    """The dotted path a worker imports ``subscriber`` by; a lambda or nested function has none."""
    path = f"{subscriber.__module__}.{subscriber.__qualname__}"
    try:
        found = import_string(path)
    except ImportError:
        found = None
    if found is not subscriber:
        raise ValueError(f"A subscriber must be a module-level function importable by its path; {path!r} is not.")
    return path


def subscribe(fact: str, subscriber: Callable[..., Any]) -> None:
    """Deliver ``fact`` to ``subscriber`` after each commit that announces it. Subscribing twice is a no-op."""
    _require_known(fact)
    path = subscriber_path(subscriber)
    if path not in _subscribers[fact]:
        _subscribers[fact].append(path)


def announce(fact: str, **facts: Any) -> bool:
    """Record ``fact`` and its deliveries in the caller's transaction; deliver them after commit.

    With ``once_key=`` (a string; not part of the payload) the fact is recorded at most once per key
    (``Fact.once_key``, unique per kind): announcing it again records and delivers nothing. Returns
    whether the fact was recorded now. (Read from ``facts`` rather than declared, so that callers
    passing a payload dict keep their types.)
    """
    _require_known(fact)
    once_key = str(facts.pop("once_key", "") or "")
    if "fact_id" in facts:
        raise ValueError("'fact_id' is given to subscribers by the outbox; a fact may not carry it.")
    # Without a once_key, no savepoint of its own: the fact is part of the caller's transaction, which
    # commits or rolls back with it (two statements saved on the reward worker's path, issue 19).
    with transaction.atomic(savepoint=False):
        if once_key:
            if Fact.objects.filter(kind=fact, once_key=once_key).exists():
                return False
            try:
                with transaction.atomic():
                    record = Fact.objects.create(kind=fact, once_key=once_key, payload=facts)
            except IntegrityError:  # announced at the same moment by another transaction, which won
                return False
        else:
            facts_batch = batch_work.current(FactBatch)
            if facts_batch is not None and facts_batch.add(fact, facts):
                return True  # recorded with the batch's other facts, at its end
            record = Fact.objects.create(kind=fact, payload=facts)
        deliveries = FactDelivery.objects.bulk_create(
            [FactDelivery(fact=record, subscriber=path) for path in _subscribers[fact]]
        )
        _enqueue_on_commit([delivery.pk for delivery in deliveries])
    return True


class FactBatch:
    """The facts a batch of inbox events announces (issue 19; ``cashback.batch_work``, registered in
    ``CashbackConfig.ready()``): recorded at the batch's end, still in its transaction, in two
    statements (the facts, then their deliveries) instead of two per fact. Nothing in a batch reads
    a fact back, and a fact told ``once_key=`` is recorded at once as always (its key is checked).
    A fact announced by an event whose savepoint was rolled back is dropped with it."""

    def __init__(self) -> None:
        self._facts: list[tuple[str, dict[str, Any]]] = []
        self._flushed = False

    def add(self, kind: str, payload: dict[str, Any]) -> bool:
        """Keep the fact for the batch's end; False once the batch has recorded its facts (record it now)."""
        if self._flushed:
            return False
        self._facts.append((kind, payload))
        return True

    def prepare(self, events: Sequence[Any]) -> None:
        """Nothing to look up."""

    def mark(self) -> int:
        return len(self._facts)

    def rollback(self, mark: object) -> None:
        assert isinstance(mark, int)
        del self._facts[mark:]

    def flush(self) -> None:
        self._flushed = True
        if not self._facts:
            return
        records = Fact.objects.bulk_create([Fact(kind=kind, payload=payload) for kind, payload in self._facts])
        deliveries = FactDelivery.objects.bulk_create(
            [FactDelivery(fact=record, subscriber=path) for record in records for path in _subscribers[record.kind]]
        )
        _enqueue_on_commit([delivery.pk for delivery in deliveries])
        self._facts = []


def _enqueue_on_commit(delivery_ids: list[int]) -> None:
    """One task per delivery after commit; inside a batch scope (the reward worker's batch of inbox
    events, cashback/batch_scope.py) one task for all the batch's deliveries, published at its end."""
    # robust: a broker that is down must not turn the announcer's committed work into an error;
    # the deliveries stay pending and the sweep enqueues them again.
    for delivery_id in delivery_ids:
        batch_scope.defer_after_commit(name="fact deliveries", item=delivery_id, publish=_publish, robust=True)


def _publish(delivery_ids: list[int]) -> None:
    # Imported here: cashback.tasks imports this module (a cycle within the app).
    from cashback.tasks import fact_deliver, fact_deliveries_run

    if len(delivery_ids) == 1:
        fact_deliver.delay(delivery_ids[0])
    else:
        fact_deliveries_run.delay(delivery_ids)


def _resolve(delivery: FactDelivery) -> Callable[..., Any]:
    if delivery.subscriber not in _subscribers.get(delivery.fact.kind, []):
        raise UnregisteredSubscriberError(
            f"{delivery.subscriber!r} is not subscribed to {delivery.fact.kind!r} in this process "
            "(was it renamed or unsubscribed in an AppConfig.ready()?)."
        )
    return import_string(delivery.subscriber)


def _call(subscriber: Callable[..., Any], *, fact: Fact) -> None:
    kwargs = dict(fact.payload)
    if "fact_id" in inspect.signature(subscriber).parameters:
        kwargs["fact_id"] = fact.pk
    subscriber(**kwargs)


def delivery_run(*, delivery_id: int) -> str:
    """Run one delivery's subscriber; return the delivery's status afterwards (``"missing"`` if none).

    Safe to call twice and concurrently: the delivery row is locked for the whole run (a second
    caller waits, then finds it done), and a done delivery is left alone. The subscriber runs in a
    savepoint that commits together with "done"; when it raises, its work is rolled back, the
    error is recorded and the next attempt scheduled (up to FACTS_MAX_ATTEMPTS).
    """
    with transaction.atomic():
        delivery = FactDelivery.objects.select_for_update().select_related("fact").filter(pk=delivery_id).first()
        if delivery is None:
            return "missing"
        if delivery.status == DeliveryStatus.DONE:
            return delivery.status
        now = timezone.now()
        delivery.attempts += 1
        try:
            with transaction.atomic():
                _call(_resolve(delivery), fact=delivery.fact)
        except Exception as error:  # any subscriber failure is recorded and retried, never lost
            logger.warning(
                "fact %s (%s) to %s failed on attempt %s: %s",
                delivery.fact_id,
                delivery.fact.kind,
                delivery.subscriber,
                delivery.attempts,
                type(error).__name__,
                exc_info=True,
            )
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = "".join(traceback.format_exception(error))[-MAX_ERROR_CHARS:]
            delivery.next_attempt_at = (
                now + retry_delay(delivery.attempts) if delivery.attempts < settings.FACTS_MAX_ATTEMPTS else None
            )
        else:
            delivery.status = DeliveryStatus.DONE
            delivery.done_at = now
            delivery.next_attempt_at = None
        delivery.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "done_at", "updated_at"])
        return delivery.status


def deliveries_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Enqueue failed deliveries whose backoff has passed (fewer than FACTS_MAX_ATTEMPTS attempts)
    and pending ones older than FACTS_STALE_PENDING_SECONDS (their task was lost, or the worker
    died). Each one's ``next_attempt_at`` is pushed out by the stale window so the next sweep leaves
    it alone while it waits in the queue. Returns how many were enqueued."""
    now = now or timezone.now()
    stale = timedelta(seconds=settings.FACTS_STALE_PENDING_SECONDS)
    failed = FactDelivery.objects.filter(
        status=DeliveryStatus.FAILED, next_attempt_at__lte=now, attempts__lt=settings.FACTS_MAX_ATTEMPTS
    )
    pending = FactDelivery.objects.filter(status=DeliveryStatus.PENDING, created_at__lte=now - stale)
    pending = pending.filter(next_attempt_at__isnull=True) | pending.filter(next_attempt_at__lte=now)
    pks = list(failed.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    pks += list(pending.order_by("created_at").values_list("pk", flat=True)[: max(limit - len(pks), 0)])
    if not pks:
        return 0
    with transaction.atomic():
        FactDelivery.objects.filter(pk__in=pks).update(next_attempt_at=now + stale, updated_at=now)
        _enqueue_on_commit(pks)
    return len(pks)


def delivery_retry(*, delivery: FactDelivery) -> str:
    """Staff's retry button: run a pending or failed delivery now, whatever its attempts."""
    return delivery_run(delivery_id=delivery.pk)


def facts_redact(*, user_id: int, keys: tuple[str, ...]) -> int:
    """Blank ``keys`` (e.g. ``ip``, ``device_id``) in the payloads of facts told about ``user_id``.

    Facts are append-only except for this: when a person closes their account (docs/privacy.md),
    the network and device they signed up from are personal data the platform no longer needs.
    The fact itself, its kind and its ids stay, so deliveries and their history still make sense.
    Returns the number of facts changed; running it again changes none.
    """
    changed = 0
    with transaction.atomic():
        for fact in Fact.objects.select_for_update().filter(payload__user_id=user_id).order_by("pk"):
            if any(fact.payload.get(key) for key in keys):
                fact.payload = {**fact.payload, **{key: None for key in keys if key in fact.payload}}
                Fact.objects.filter(pk=fact.pk).update(payload=fact.payload)
                changed += 1
    return changed
