"""The kinds of notification, the channels, the defaults, and each kind's message per channel (F-N2).

A kind's message is written once per channel: the inbox (title and body), e-mail (subject and
body), SMS (one short text) and push (title and body). Placeholders are filled from the
notification's ``context`` (the fact's values, money already formatted: ``amount`` "12.50 NOK").
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from cashback.formatting import format_money


class Channel(models.TextChoices):
    INBOX = "inbox", gettext_lazy("In the app and web wallet")
    EMAIL = "email", gettext_lazy("E-mail")
    SMS = "sms", gettext_lazy("SMS")
    PUSH = "push", gettext_lazy("Push message")


# The channels a provider delivers (the inbox is the notification row itself).
EXTERNAL_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PUSH)
# Channels that wake a phone: held back in quiet hours.
QUIET_CHANNELS = frozenset({Channel.SMS, Channel.PUSH})


class Group(models.TextChoices):
    MONEY = "money", gettext_lazy("Money")
    PROGRESS = "progress", gettext_lazy("Progress")
    NEARBY = "nearby", gettext_lazy("Nearby offers")
    MARKETING = "marketing", gettext_lazy("News and offers")


DEFAULTS: dict[str, frozenset[str]] = {
    Group.MONEY: frozenset({Channel.INBOX, Channel.PUSH, Channel.EMAIL}),
    Group.PROGRESS: frozenset({Channel.INBOX, Channel.PUSH}),
    Group.NEARBY: frozenset({Channel.PUSH}),
    # Marketing sends nothing without the marketing consent, whatever the preferences say.
    Group.MARKETING: frozenset({Channel.INBOX, Channel.EMAIL, Channel.PUSH}),
}


@dataclass(frozen=True)
class Message:
    title: str
    body: str


@dataclass(frozen=True)
class KindSpec:
    label: Promise
    group: str
    inbox: tuple[Promise, Promise]
    email: tuple[Promise, Promise]
    sms: Promise
    push: tuple[Promise, Promise]
    url: str = "/wallet/"

    def render(self, channel: str, context: dict[str, object]) -> Message:
        values = _SafeDict(context)
        # The amount is written when the message is, in the reader's language (person_locale).
        if isinstance(context.get("amount_minor"), int) and isinstance(context.get("currency"), str):
            values["amount"] = money_text(context["amount_minor"], context["currency"])  # type: ignore[arg-type]  # checked above
        if channel == Channel.SMS:
            return Message(title="", body=str(self.sms).format_map(values).strip())
        by_channel: dict[str, tuple[Promise, Promise]] = {
            Channel.INBOX: self.inbox,
            Channel.EMAIL: self.email,
            Channel.PUSH: self.push,
        }
        title, body = by_channel[channel]
        # Stripped: an optional value left out (a payout's failure reason) leaves no trailing space.
        return Message(title=str(title).format_map(values).strip(), body=str(body).format_map(values).strip())


class _SafeDict(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return ""


_ = gettext_lazy

# Brace-formatted; the comments stop xgettext reading "% o" as a printf directive.
# xgettext:no-python-format
_CHALLENGE_WAY = _("You are {percent}% of the way in {challenge}.")
# xgettext:no-python-format
_CHALLENGE_WAY_SHORT = _("{percent}% of the way.")

KINDS: dict[str, KindSpec] = {
    "reward_earned": KindSpec(
        label=_("Cashback earned"),
        group=Group.MONEY,
        inbox=(_("You earned {amount}"), _("{amount} cashback is pending until the shop's return period is over.")),
        email=(
            _("You earned {amount} cashback"),
            _("A purchase earned you {amount} cashback, pending until the shop's return period is over."),
        ),
        sms=_("Cashback: you earned {amount}. It becomes available after the return period."),
        push=(_("+{amount} cashback"), _("Pending until the return period is over.")),
    ),
    "reward_available": KindSpec(
        label=_("Cashback available"),
        group=Group.MONEY,
        inbox=(_("{amount} is available"), _("Your cashback of {amount} can now be paid out, spent or donated.")),
        email=(
            _("{amount} cashback is available"),
            _("Your cashback of {amount} can now be paid out, spent or donated."),
        ),
        sms=_("Cashback: {amount} is now available in your wallet."),
        push=(_("{amount} is available"), _("Pay it out, spend it or give it.")),
    ),
    "reward_reversed": KindSpec(
        label=_("Cashback reversed"),
        group=Group.MONEY,
        inbox=(_("{amount} reversed"), _("A purchase was refunded, so its cashback of {amount} was reversed.")),
        email=(
            _("Cashback of {amount} reversed"),
            _("A purchase was refunded, so its cashback of {amount} was reversed."),
        ),
        sms=_("Cashback: {amount} was reversed after a refund."),
        push=(_("{amount} reversed"), _("A refunded purchase's cashback was reversed.")),
    ),
    "cashback_spent": KindSpec(
        label=_("Cashback used at checkout"),
        group=Group.MONEY,
        inbox=(_("You used {amount}"), _("You paid {amount} with cashback at checkout.")),
        email=(_("You used {amount} of cashback"), _("You paid {amount} with cashback at checkout.")),
        sms=_("Cashback: you paid {amount} with cashback."),
        push=(_("{amount} used at checkout"), _("Paid with your cashback.")),
    ),
    "reward_expiry_warning": KindSpec(
        label=_("Cashback expiring soon"),
        group=Group.MONEY,
        inbox=(_("{amount} expires soon"), _("Use, pay out or give {amount} before {expires_on}.")),
        email=(_("{amount} of cashback expires soon"), _("Use, pay out or give {amount} before {expires_on}.")),
        sms=_("Cashback: {amount} expires on {expires_on}."),
        push=(_("{amount} expires soon"), _("Use it before {expires_on}.")),
    ),
    "payout_paid": KindSpec(
        label=_("Payout paid"),
        group=Group.MONEY,
        inbox=(_("Payout of {amount} paid"), _("{amount} is on its way to your bank account.")),
        email=(_("Your payout of {amount} is paid"), _("{amount} is on its way to your bank account.")),
        sms=_("Cashback: your payout of {amount} is paid."),
        push=(_("Payout of {amount} paid"), _("On its way to your bank account.")),
        url="/wallet/payouts/",
    ),
    "payout_failed": KindSpec(
        label=_("Payout failed"),
        group=Group.MONEY,
        inbox=(_("Payout of {amount} failed"), _("The payout failed and {amount} is back in your wallet. {reason}")),
        email=(
            _("Your payout of {amount} failed"),
            _("The payout failed and {amount} is back in your wallet. {reason}"),
        ),
        sms=_("Cashback: your payout of {amount} failed; the money is back in your wallet."),
        push=(_("Payout of {amount} failed"), _("The money is back in your wallet.")),
        url="/wallet/payouts/",
    ),
    "donation_receipt": KindSpec(
        label=_("Donation receipt"),
        group=Group.MONEY,
        inbox=(_("You gave {amount}"), _("Thank you: {amount} goes to {charity}. Your receipt is in Giving.")),
        email=(
            _("Your donation receipt: {amount}"),
            _("Thank you: {amount} goes to {charity}. Your receipt is in Giving."),
        ),
        sms=_("Cashback: thank you for giving {amount} to {charity}."),
        push=(_("You gave {amount}"), _("Thank you: it goes to {charity}.")),
        url="/wallet/giving/",
    ),
    "referral_bonus": KindSpec(
        label=_("Referral bonus"),
        group=Group.MONEY,
        inbox=(_("Referral bonus: {amount}"), _("{memo}: {amount} is in your available balance now.")),
        email=(
            _("You earned a referral bonus of {amount}"),
            _("{memo}: {amount} is in your available balance now."),
        ),
        sms=_("Cashback: you earned a referral bonus of {amount}."),
        push=(_("Referral bonus: {amount}"), _("Thanks for inviting.")),
        url="/wallet/referrals/",
    ),
    "challenge_progress": KindSpec(
        label=_("Challenge progress"),
        group=Group.PROGRESS,
        inbox=(_("{challenge}: {stage}"), _CHALLENGE_WAY),
        email=(_("{challenge}: {stage}"), _CHALLENGE_WAY),
        sms=_("Cashback: {challenge}, {percent}%."),
        push=(_("{challenge}: {stage}"), _CHALLENGE_WAY_SHORT),
        url="/wallet/challenges/",
    ),
    "tier_changed": KindSpec(
        label=_("Tier change"),
        group=Group.PROGRESS,
        inbox=(_("You are now {tier}"), _("Your tier changed from {previous} to {tier}.")),
        email=(_("Your tier is now {tier}"), _("Your tier changed from {previous} to {tier}.")),
        sms=_("Cashback: your tier is now {tier}."),
        push=(_("You are now {tier}"), _("Your tier changed from {previous}.")),
    ),
    "statement_ready": KindSpec(
        label=_("Statement ready"),
        group=Group.MONEY,
        inbox=(
            _("Your statement for {period} is ready"),
            _("Opening balance {opening}, closing balance {closing}. Download it from Statements."),
        ),
        email=(
            _("Your statement for {period} is ready"),
            _("Your statement for {period} is ready: opening balance {opening}, closing balance {closing}."),
        ),
        sms=_("Cashback: your statement for {period} is ready."),
        push=(_("Statement for {period}"), _("Ready to download.")),
        url="/wallet/statements/",
    ),
    "nearby_offer": KindSpec(
        label=_("Offers near you"),
        group=Group.NEARBY,
        inbox=(_("{merchant} is near you"), _("{offer} at {shop}.")),
        email=(_("{merchant} is near you"), _("{offer} at {shop}.")),
        sms=_("Cashback: {offer} at {shop}, near you."),
        push=(_("{merchant} is near you"), _("{offer} at {shop}.")),
        url="/wallet/offers/",
    ),
    "announcement": KindSpec(
        label=_("News and offers"),
        group=Group.MARKETING,
        inbox=(_("{title}"), _("{body}")),
        email=(_("{title}"), _("{body}")),
        sms=_("{title}: {body}"),
        push=(_("{title}"), _("{body}")),
    ),
}


def kind_defaults(kind: str) -> frozenset[str]:
    spec = KINDS.get(kind)
    # A kind with no spec (free-form messages from older code) goes to the inbox and e-mail.
    return DEFAULTS[spec.group] if spec else frozenset({Channel.INBOX, Channel.EMAIL})


def is_marketing(kind: str) -> bool:
    spec = KINDS.get(kind)
    return spec is not None and spec.group == Group.MARKETING


def money_text(amount_minor: int, currency: str) -> str:
    """``NOK 12.50`` / ``12,50 kr`` from minor units, in the active language: exact, never through a float."""
    return format_money(int(amount_minor), currency)


def stage_text(stage: str) -> str:
    return gettext("reached") if stage == "reached" else gettext("half-way")
