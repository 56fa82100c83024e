"""What programmes hold about a person, for "download my data" (accounts.privacy_registry).

A business customer's record names the person whose wallet gets the rewards: exported. The other user
columns record a brand owner's field staff at work (who registered, proposed, decided, uploaded) and
their roles: the brand owner's record of its team, not the person's data.
"""

from accounts.models import User
from accounts.privacy_registry import ExportSection, Row, not_exported_register, section_register
from programmes.models import BusinessCustomer


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
    not_exported_register(
        fields=(
            "programmes.FieldRole.user",
            "programmes.BusinessCustomer.registered_by",
            "programmes.Contract.proposed_by",
            "programmes.Contract.decided_by",
            "programmes.ContractEvent.actor",
            "programmes.SalesUpload.uploaded_by",
        ),
        reason="A brand owner's field staff at work (their role, who registered, proposed, decided or uploaded): "
        "the brand owner's record of its team's work, not the person's data.",
    )
