"""The person's links to merchants (the merchants' own customer ids) and team memberships, for
"download my data"; what closing the account does to them (F-A5, docs/privacy.md).

A member of a merchant's team cannot close their consumer account while still on the team: the
merchant's owner removes them (or they hand over ownership) first. The merchant's audit log keeps
``actor_label`` (the e-mail or phone the member acted under): it is the merchant's record of who
changed its account, append-only in the database, and not the consumer's own data (docs/privacy.md).
"""

from accounts.models import User
from accounts.privacy_registry import (
    Eraser,
    ErasureBlocker,
    ExportSection,
    Row,
    eraser_register,
    not_exported_register,
    section_register,
)
from merchants.models import CustomerLink, Membership


def _customer_links(user: User) -> list[Row]:
    return [
        {
            "merchant": link.merchant.display_name,
            "source": link.source,
            "external_id": link.external_id,
            "via": link.via,
        }
        for link in CustomerLink.objects.filter(user=user).select_related("merchant").order_by("created_at", "id")
    ]


def _memberships(user: User) -> list[Row]:
    return [
        {"merchant": membership.merchant.display_name, "role": membership.role, "since": membership.created_at}
        for membership in Membership.objects.filter(user=user).select_related("merchant").order_by("created_at", "id")
    ]


def _blockers(user: User) -> list[ErasureBlocker]:
    if Membership.objects.filter(user=user).exists():
        return [
            ErasureBlocker(
                code="merchant_team_member",
                message="You are on a merchant's team. Ask the merchant's owner to remove you from the team first.",
            )
        ]
    return []


def _erase(user: User) -> dict[str, int]:
    # The merchants' ids for the person: purchases reported with them no longer find anyone.
    return {"customer_links_removed": CustomerLink.objects.filter(user=user).delete()[0]}


def register() -> None:
    section_register(
        ExportSection(
            name="merchant_links",
            title="Merchants that know you",
            description="The customer ids merchants' systems (or their Stripe accounts) use for you.",
            rows=_customer_links,
            covers=("merchants.CustomerLink.user",),
            order=70,
        )
    )
    section_register(
        ExportSection(
            name="merchant_teams",
            title="Merchant teams",
            description="Merchants whose team you are on, and your role there.",
            rows=_memberships,
            covers=("merchants.Membership.user",),
            order=71,
        )
    )
    not_exported_register(
        fields=(
            "merchants.Merchant.applied_by",
            "merchants.Invitation.invited_by",
            "merchants.Invitation.accepted_by",
            "merchants.AuditEvent.actor",
            "merchants.MerchantApiKey.created_by",
            "merchants.MerchantApiKey.revoked_by",
            "merchants.StripeConnection.connected_by",
        ),
        reason="A merchant's records of who acted for it (applied, invited, changed, connected): the merchant's "
        "data about its team, not the consumer's.",
    )
    not_exported_register(
        fields=("merchants.CommissionRate.set_by",),
        reason="Which staff member set a merchant's commission rate: the platform's record of its own staff's "
        "work on a merchant, not the person's data (SET_NULL when the account is erased).",
    )
    eraser_register(Eraser(name="merchants", erase=_erase, blockers=_blockers, order=70))
