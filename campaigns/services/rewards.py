"""The ledger side of a reward: what the ledger holds for it follows what it earns now.

``reward_book`` posts the difference between a reward's amount and what was booked for it, from
the merchant (funding first, then receivable) to the consumer (pending or available) or the
charity, and back the same way when it shrinks. Policies: docs/rewards.md.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import partial
from typing import Any

from django.conf import settings

from campaigns.errors import CharityRewardError
from campaigns.models import Offer, Purchase, Reward, RewardKind, RewardStatus
from campaigns.services import reward_batch
from campaigns.services.figure_changes import figures_changed, reward_figures_day
from cashback.events import announce
from cashback.fast_rows import row_insert
from charity.errors import CharityNotFoundError
from charity.services import charity_payable_account_open
from wallet.errors import InsufficientFundsError
from wallet.models import AccountKind, JournalKind, JournalTransaction, LedgerAccount
from wallet.services import EntrySpec, TransferRequest, account_for_posting, platform_account, transaction_post

_SPLIT_ATTEMPTS = 3


def reward_on_auth() -> bool:
    return bool(getattr(settings, "REWARD_ON_AUTH", True))


def round_half_even(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


# --- The ledger side of a reward ---------------------------------------------------------------


def _posting_account(*, kind: str, currency: str, user_id: int | None = None, owner_key: str = "") -> LedgerAccount:
    """An account to post to: the batch's (looked up for all its events at once) or ``account_for_posting``'s."""
    batch = reward_batch.current()
    found = batch.account((owner_key, user_id, kind, currency)) if batch is not None else None
    return found or account_for_posting(kind=kind, currency=currency, user_id=user_id, owner_key=owner_key)


def _merchant_accounts(offer: Offer, currency: str) -> tuple[LedgerAccount, LedgerAccount]:
    owner_key = f"merchant:{offer.merchant_id}"
    funding = _posting_account(kind=AccountKind.MERCHANT_FUNDING, currency=currency, owner_key=owner_key)
    receivable = _posting_account(kind=AccountKind.MERCHANT_RECEIVABLE, currency=currency, owner_key=owner_key)
    return funding, receivable


def reward_user_id(reward: Reward) -> int:
    """The consumer a consumer reward belongs to (``reward.user_id``, which the type allows to be None)."""
    if reward.user_id is None:
        raise ValueError(f"Reward {reward.pk} goes to a consumer but has none.")
    return reward.user_id


def consumer_account(user_id: int, kind: str, currency: str) -> LedgerAccount:
    """The consumer's account of a kind, to post to (its balance columns may be old: read balances
    with ``account_spendable``)."""
    return _posting_account(kind=kind, currency=currency, user_id=user_id)


def _charity_account(reward: Reward) -> LedgerAccount:
    """The payable account of the charity the reward goes to; a reference that names no charity
    is the offer's fault (``CharityRewardError``), any other error is a real failure and propagates."""
    try:
        charity_id = int(reward.charity_ref)
    except (TypeError, ValueError) as exc:
        raise CharityRewardError(f"Offer {reward.offer_id} names charity {reward.charity_ref!r}.") from exc
    try:
        return charity_payable_account_open(charity_id=charity_id, currency=reward.currency)
    except CharityNotFoundError as exc:
        raise CharityRewardError(f"Offer {reward.offer_id} names charity {reward.charity_ref!r}.") from exc


def account_spendable(account: LedgerAccount) -> int:
    batch = reward_batch.current()
    if batch is not None:  # what the batch's deferred postings will leave
        return batch.postings.spendable(account.pk)
    row = LedgerAccount.objects.filter(pk=account.pk).values_list("balance", "pending_debits").first()
    return max(0, row[0] - row[1]) if row else 0


@dataclass(frozen=True)
class Split:
    """Entries of one posting whose split depends on balances read just before, and the parts
    of the amount each account took (what the reward's own columns record)."""

    entries: list[EntrySpec]
    from_pending: int = 0
    from_breakage: int = 0
    from_available: int = 0
    owed: int = 0
    unrecovered: int = 0


@dataclass(frozen=True)
class Posting:
    """What every posting of one booking of a reward shares: its key, memo, causes and the
    merchant's two accounts."""

    key: str
    memo: str
    causes: dict[str, Any]
    funding: LedgerAccount
    receivable: LedgerAccount


def _post_with_split(
    *, posting: Posting, kind: str, plan: Callable[[bool], Split]
) -> tuple[JournalTransaction | None, Split]:
    """Post entries whose split depends on balances read just before (funding, available).

    In a batch of inbox events (``reward_batch``) the posting is deferred to the batch's end and no
    journal is returned yet.

    ``plan(last)`` reads the balances and returns the split; if another writer spent the money
    meanwhile the ledger refuses (``insufficient_funds``, nothing written) and the split is made
    again; the last attempt (``last=True``) books everything uncertain to the receivables, which
    may go negative, so a reward is never lost. Returns the journal and the split it posted.
    """
    batch = reward_batch.current()
    if batch is not None:  # posted with the batch's other postings at its end; the split reads through it
        split = plan(False)
        batch.postings.post(
            TransferRequest(
                idempotency_key=posting.key, kind=kind, entries=split.entries, memo=posting.memo, causes=posting.causes
            )
        )
        return None, split
    for attempt in range(1, _SPLIT_ATTEMPTS + 1):
        last = attempt == _SPLIT_ATTEMPTS
        split = plan(last)
        try:
            journal = transaction_post(
                idempotency_key=posting.key, kind=kind, entries=split.entries, memo=posting.memo, causes=posting.causes
            )
        except InsufficientFundsError:
            if last:
                raise
            continue
        return journal, split
    raise AssertionError("unreachable")


def _merchant_debits(funding: LedgerAccount, receivable: LedgerAccount, amount: int, last: bool) -> list[EntrySpec]:
    """Take ``amount`` from the merchant: prepaid funding as far as it goes, the rest as a receivable."""
    from_funding = 0 if last else min(amount, account_spendable(funding))
    entries = []
    if from_funding:
        entries.append(EntrySpec.debit(funding, from_funding))
    if amount - from_funding:
        entries.append(EntrySpec.debit(receivable, amount - from_funding))
    return entries


def _merchant_credits(funding: LedgerAccount, receivable: LedgerAccount, amount: int) -> list[EntrySpec]:
    """Give ``amount`` back to the merchant: first against what it owes, the rest to its funding."""
    batch = reward_batch.current()
    if batch is not None:
        owed = -batch.postings.balance(receivable.pk)
    else:
        owed = -(LedgerAccount.objects.filter(pk=receivable.pk).values_list("balance", flat=True).first() or 0)
    to_receivable = min(amount, max(0, owed))
    entries = []
    if to_receivable:
        entries.append(EntrySpec.credit(receivable, to_receivable))
    if amount - to_receivable:
        entries.append(EntrySpec.credit(funding, amount - to_receivable))
    return entries


def reward_causes(reward: Reward, purchase: Purchase | None) -> dict[str, Any]:
    causes: dict[str, Any] = {}
    if purchase is not None:
        causes["purchase"] = purchase.pk
    causes["offer"] = reward.offer_id
    causes["reward"] = reward.pk
    if reward.challenge_id:
        causes["challenge"] = reward.challenge_id
    if reward.beneficiary == "charity":
        causes["charity"] = reward.charity_ref
        if reward.user_id:
            causes["user"] = reward.user_id
    return causes


def reward_memo(reward: Reward, offer: Offer) -> str:
    if reward.kind == RewardKind.CHALLENGE and reward.challenge is not None:
        text = f"Challenge bonus: {reward.challenge.title}"
    elif reward.kind == RewardKind.MONTHLY:
        text = f"{offer.title} ({reward.period:%B %Y})"
    else:
        text = offer.title
    return f"{text} at {offer.merchant.display_name}"[:255]


def reward_status(reward: Reward) -> str:
    if reward.amount_minor == 0:
        return RewardStatus.REVERSED
    if reward.matured_at is not None and reward.expired_minor > 0:
        return RewardStatus.EXPIRED  # what was left of it unused expired
    if reward.amount_minor < reward.decided_minor:
        return RewardStatus.PARTLY_REVERSED
    if reward.matured_at is not None:
        return RewardStatus.AVAILABLE
    return RewardStatus.PENDING


def _earn_account(reward: Reward) -> LedgerAccount:
    """Where an increase of the reward goes: the charity, or the consumer's available balance once
    the reward matured, else their pending balance."""
    if reward.beneficiary == "charity":
        return _charity_account(reward)
    kind = AccountKind.CONSUMER_AVAILABLE if reward.matured_at is not None else AccountKind.CONSUMER_PENDING
    return consumer_account(reward_user_id(reward), kind, reward.currency)


def _earn_split(posting: Posting, credit: LedgerAccount, amount: int, last: bool) -> Split:
    """``amount`` from the merchant to ``credit``."""
    debits = _merchant_debits(posting.funding, posting.receivable, amount, last)
    return Split(entries=[*debits, EntrySpec.credit(credit, amount)])


def _charity_take_back_split(posting: Posting, payable: LedgerAccount, amount: int, last: bool) -> Split:
    """Take ``amount`` back from a charity: only what its payable account still holds (the rest was
    paid out and stays unrecovered), back to the merchant."""
    from_payable = min(amount, account_spendable(payable))
    entries = [EntrySpec.debit(payable, from_payable)] if from_payable else []
    if from_payable:
        entries += _merchant_credits(posting.funding, posting.receivable, from_payable)
    return Split(entries=entries, from_available=from_payable, unrecovered=amount - from_payable)


def _consumer_take_back_split(posting: Posting, reward: Reward, amount: int, last: bool) -> Split:
    """Take ``amount`` back from the consumer, all of it to the merchant: first what is still
    pending, then what expired to breakage, then their available balance; what they already spent
    becomes their receivable (on the last attempt everything after pending and breakage does)."""
    currency = reward.currency
    from_pending = min(amount, reward.pending_minor)
    from_breakage = min(amount - from_pending, reward.expired_minor)
    rest = amount - from_pending - from_breakage
    user_id = reward_user_id(reward)
    available = consumer_account(user_id, AccountKind.CONSUMER_AVAILABLE, currency)
    from_available = 0 if last else min(rest, account_spendable(available))
    owed = rest - from_available
    entries: list[EntrySpec] = []
    if from_pending:
        pending = consumer_account(user_id, AccountKind.CONSUMER_PENDING, currency)
        entries.append(EntrySpec.debit(pending, from_pending))
    if from_breakage:
        entries.append(EntrySpec.debit(platform_account(kind=AccountKind.BREAKAGE, currency=currency), from_breakage))
    if from_available:
        entries.append(EntrySpec.debit(available, from_available))
    if owed:
        receivable = consumer_account(user_id, AccountKind.CONSUMER_RECEIVABLE, currency)
        entries.append(EntrySpec.debit(receivable, owed))
    entries += _merchant_credits(posting.funding, posting.receivable, amount)
    return Split(
        entries=entries,
        from_pending=from_pending,
        from_breakage=from_breakage,
        from_available=from_available,
        owed=owed,
    )


def _earn_post(reward: Reward, posting: Posting, amount: int) -> JournalTransaction | None:
    """Post ``amount`` more to the reward's beneficiary (None: deferred to the batch's end)."""
    credit = _earn_account(reward)
    kind = JournalKind.CHALLENGE_BONUS if reward.kind == RewardKind.CHALLENGE else JournalKind.REWARD_EARN
    journal, _ = _post_with_split(posting=posting, kind=kind, plan=partial(_earn_split, posting, credit, amount))
    return journal


def _earn_count(reward: Reward, amount: int) -> None:
    """The reward's columns after ``amount`` more was posted to its beneficiary."""
    if reward.beneficiary == "charity" or reward.matured_at is not None:
        reward.available_minor += amount
    else:
        reward.pending_minor += amount


def _reward_increase(reward: Reward, posting: Posting, amount: int) -> None:
    """Book ``amount`` more to the reward's beneficiary; the first earning is the reward's journal."""
    journal = _earn_post(reward, posting, amount)
    _earn_count(reward, amount)
    if journal is None:  # deferred to the batch's end (reward_batch)
        batch = reward_batch.current()
        if batch is not None and reward.earn_journal_id is None and not batch.has_deferred_earn(reward):
            batch.earn_deferred(reward, key=posting.key)
    elif reward.earn_journal_id is None:
        reward.earn_journal = journal


def _reward_decrease(reward: Reward, posting: Posting, amount: int) -> None:
    """Take ``amount`` of the reward back from its beneficiary to the merchant."""
    if reward.beneficiary == "charity":
        payable = _charity_account(reward)
        plan = partial(_charity_take_back_split, posting, payable, amount)
        split = plan(False)
        if split.from_available:  # nothing left at the charity: nothing to post
            _, split = _post_with_split(posting=posting, kind=JournalKind.REWARD_REVERSE, plan=plan)
        reward.unrecovered_minor += split.unrecovered
        reward.available_minor -= min(reward.available_minor, amount)
        return
    _, split = _post_with_split(
        posting=posting,
        kind=JournalKind.REWARD_REVERSE,
        plan=partial(_consumer_take_back_split, posting, reward, amount),
    )
    reward.pending_minor -= split.from_pending
    reward.expired_minor -= split.from_breakage
    reward.available_minor -= min(reward.available_minor, split.from_available + split.owed)
    reward.owed_minor += split.owed


def _reward_posting(
    reward: Reward, offer: Offer, purchase: Purchase | None, *, ledger_seq: int | None = None
) -> Posting:
    """The next posting of the reward: ``<ledger_key>:earn`` first, then ``<ledger_key>:adjust:<n>``
    (after ``ledger_seq`` postings, by default the reward's)."""
    done = reward.ledger_seq if ledger_seq is None else ledger_seq
    key = f"{reward.ledger_key}:earn" if done == 0 else f"{reward.ledger_key}:adjust:{done + 1}"
    funding, receivable = _merchant_accounts(offer, reward.currency)
    return Posting(
        key=key,
        memo=reward_memo(reward, offer),
        causes=reward_causes(reward, purchase),
        funding=funding,
        receivable=receivable,
    )


def reward_book(reward: Reward, *, offer: Offer, purchase: Purchase | None) -> None:
    """Post the difference between what the reward earns now and what the ledger holds for it.

    The caller holds the lock that owns the reward (its purchase, or its challenge progress, or the
    reward row itself). Keys: ``<ledger_key>:earn`` for the first posting, then
    ``<ledger_key>:adjust:<n>``: each posting happens once, under that lock, with the reward row
    saved in the same transaction, so a replayed event finds nothing to post. Announces
    ``reward_earned`` (first earning) and ``reward_reversed`` for a consumer's reward.
    """
    delta = reward.amount_minor - reward.booked_minor
    if delta == 0:
        # Nothing to post, but a new decision may have moved what later refunds are measured against
        # (a capped reward decided again on a cleared amount that differs from the authorised one).
        reward.status = reward_status(reward)
        if reward.pk is not None:
            reward.save(update_fields=["status", "decided_minor", "basis_minor", "updated_at"])
        return
    batch = reward_batch.current()
    first_earn = reward.earn_journal_id is None and delta > 0 and not (batch and batch.has_deferred_earn(reward))
    if batch is not None and reward.pk is None and delta > 0:
        # A new reward in a batch of inbox events: inserted once, with the columns its first earning
        # gives it, before that earning is posted (its causes name the reward) at the batch's end,
        # which links the journal (issue 19: an INSERT and an UPDATE before).
        _earn_count(reward, delta)
        reward.booked_minor = reward.amount_minor
        reward.ledger_seq = 1
        reward.status = reward_status(reward)
        row_insert(reward)
        posting = _reward_posting(reward, offer, purchase, ledger_seq=0)
        _earn_post(reward, posting, delta)
        batch.earn_deferred(reward, key=posting.key)
    else:
        posting = _reward_posting(reward, offer, purchase)
        if delta > 0:
            _reward_increase(reward, posting, delta)
        else:
            _reward_decrease(reward, posting, -delta)
        reward.booked_minor = reward.amount_minor
        reward.ledger_seq += 1
        reward.status = reward_status(reward)
        reward.save()
    if reward.kind != RewardKind.OFFER:  # an offer reward changes only with its purchase, which records its day
        figures_changed(merchant_id=offer.merchant_id, days=[reward_figures_day(reward)])
    if reward.beneficiary == "charity":
        return
    facts = {
        "reward_id": reward.pk,
        "user_id": reward.user_id,
        "purchase_id": purchase.pk if purchase else None,
        "currency": reward.currency,
    }
    if first_earn:
        announce("reward_earned", amount_minor=delta, **facts)
    elif delta < 0:
        announce("reward_reversed", amount_minor=-delta, **facts)
