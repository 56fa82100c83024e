"""What programmes hold about a person, for "download my data" (accounts.privacy_registry).

A business customer's record names the person whose wallet gets the rewards: exported. The other user
columns record a brand owner's field staff at work (who registered, proposed, decided, uploaded) and
their roles: the brand owner's record of its team, not the person's data.
"""

from accounts.models import User
from accounts.privacy_registry import ExportSection, Row, not_exported_register, section_register
from programmes.models import ActionOutcome, ActionReport, BusinessCustomer, Redemption, VoucherCode


def _business_customers(user: User) -> list[Row]:
    return [
        {
            "brand_owner": customer.brand_owner.merchant.display_name,
            "customer_code": customer.code,
            "name": customer.name,
            "kind": customer.get_kind_display(),
            "region": customer.region.name,
            "registered_at": customer.created_at,
        }
        for customer in BusinessCustomer.objects.filter(user=user)
        .select_related("brand_owner__merchant", "region")
        .order_by("id")
    ]


def _vouchers(user: User) -> list[Row]:
    """The person's vouchers and redemptions; a code appears masked (the full code is opened only with
    the SMS check, and a download must not carry it past that)."""
    rows: list[Row] = [
        {
            "what": "voucher",
            "reward": voucher.item.name,
            "code": voucher.masked,
            "status": voucher.get_status_display(),
            "issued_at": voucher.issued_at,
            "claimed_at": voucher.claimed_at,
        }
        for voucher in VoucherCode.objects.filter(holder=user).select_related("item").order_by("id")
    ]
    rows += [
        {
            "what": "redemption",
            "reward": redemption.item.name,
            "price": redemption.price,
            "currency": redemption.currency,
            "status": redemption.get_status_display(),
            "created_at": redemption.created_at,
        }
        for redemption in Redemption.objects.filter(user=user).select_related("item").order_by("id")
    ]
    return rows


def _actions(user: User) -> list[Row]:
    """The actions reported for the person (surveys, shares, birthdays, ...) and what each earned or why not."""
    rows: list[Row] = [
        {
            "what": "action",
            "action": report.get_action_display(),
            "source": report.get_source_display(),
            "description": report.description,
            "occurred_at": report.occurred_at,
        }
        for report in ActionReport.objects.filter(user=user).order_by("id")
    ]
    rows += [
        {
            "what": "outcome",
            "action": outcome.report.get_action_display(),
            "result": outcome.get_result_display(),
            "value": outcome.value,
            "value_kind": outcome.value_kind,
            "currency": outcome.currency,
            "occurred_at": outcome.occurred_at,
        }
        for outcome in ActionOutcome.objects.filter(user=user).select_related("report").order_by("id")
    ]
    return rows


def register() -> None:
    section_register(
        ExportSection(
            name="business_programmes",
            title="Business programmes",
            description="The businesses registered with your phone number in a brand owner's sales programmes.",
            rows=_business_customers,
            covers=("programmes.BusinessCustomer.user",),
            order=75,
        )
    )
    section_register(
        ExportSection(
            name="reward_vouchers",
            title="Rewards and vouchers",
            description="The rewards you redeemed and the vouchers you hold (codes masked).",
            rows=_vouchers,
            covers=("programmes.VoucherCode.holder", "programmes.Redemption.user"),
            order=76,
        )
    )
    section_register(
        ExportSection(
            name="reward_actions",
            title="Rewards for actions",
            description="The actions reported for you (surveys, shares, birthdays) and what each earned or why not.",
            rows=_actions,
            covers=("programmes.ActionReport.user", "programmes.ActionOutcome.user"),
            order=77,
        )
    )
    not_exported_register(
        fields=(
            "programmes.ActionRule.created_by",
            "programmes.FieldRole.user",
            "programmes.FieldRoleChange.person",
            "programmes.FieldRoleChange.actor",
            "programmes.BusinessCustomer.registered_by",
            "programmes.Contract.proposed_by",
            "programmes.Contract.decided_by",
            "programmes.ContractEvent.actor",
            "programmes.CustomerSourceLink.linked_by",
            "programmes.CustomerSourceLink.removed_by",
            "programmes.SalesUpload.uploaded_by",
            "programmes.VoucherBatch.uploaded_by",
            "programmes.VoucherBatch.decided_by",
        ),
        reason="A brand owner's field staff at work (their role and its changes, who registered, proposed, "
        "decided, linked or uploaded): the brand owner's record of its team's work, not the person's data.",
    )
