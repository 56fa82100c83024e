"""The person's donations and auto-donate choice, for "download my data"; and giving the balance
away as a way to settle it before closing the account (F-A5, docs/privacy.md)."""

from accounts.models import User
from accounts.privacy_registry import (
    Eraser,
    ExportSection,
    Row,
    eraser_register,
    section_register,
    settle_option_register,
)
from charity.models import AutoDonateSetting
from charity.selectors import donation_entries, donation_rows
from wallet.money import minor_to_decimal_string


def _donations(user: User) -> list[Row]:
    return [
        {
            "donated_at": row.created_at,
            "charity": row.charity.name if row.charity else None,
            "amount": minor_to_decimal_string(row.amount_minor, row.currency),
            "currency": row.currency,
            "automatic": row.automatic,
            "reward_id": row.reward_id,
        }
        for row in reversed(donation_rows(donation_entries(user=user)))
    ]


def _auto_donate(user: User) -> list[Row]:
    return [
        {"charity": setting.charity.name, "share_percent": setting.share_percent, "updated_at": setting.updated_at}
        for setting in AutoDonateSetting.objects.filter(user=user).select_related("charity")
    ]


def _erase(user: User) -> dict[str, int]:
    # Donations stay in the ledger (the charities were paid); the standing choice goes.
    return {"auto_donate_removed": AutoDonateSetting.objects.filter(user=user).delete()[0]}


def _give_option(user: User) -> list[tuple[str, str]]:
    return [("charity:giving", "Give it to a charity")]


def register() -> None:
    section_register(
        ExportSection(
            name="donations",
            title="Donations",
            description="What you gave to partner charities, once or automatically from a reward.",
            rows=_donations,
            order=40,
        )
    )
    section_register(
        ExportSection(
            name="auto_donate",
            title="Automatic giving",
            description="The share of every reward you chose to give, and to which charity.",
            rows=_auto_donate,
            covers=("charity.AutoDonateSetting.user",),
            order=41,
        )
    )
    eraser_register(Eraser(name="charity", erase=_erase, order=40))
    settle_option_register(blocker_code="balance_not_zero", options=_give_option)
