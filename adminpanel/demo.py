"""Demo merchant staff for seed_demo: an owner and an analyst of the demo merchant, each with their
own account, joined through the merchants' invitation services like any team member."""

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from merchants.demo import DEMO_ORG_NUMBER
from merchants.models import Merchant
from merchants.services.team import invitation_accept, invitation_send

DEMO_MERCHANT_STAFF = [
    ("owner@demo.cashback.example", "Otto Owner", "owner"),
    ("analyst@demo.cashback.example", "Ane Analyst", "analyst"),
]


def seed_demo_merchant_staff() -> list[str]:
    merchant = Merchant.objects.filter(country="NO", organisation_number=DEMO_ORG_NUMBER).first()
    if merchant is None:
        return []
    owner = merchant.memberships.filter(role="owner").select_related("user").order_by("pk").first()
    report = []
    for email, full_name, role in DEMO_MERCHANT_STAFF:
        user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if owner is not None and not merchant.memberships.filter(user=user).exists():
            _invitation, token = invitation_send(merchant=merchant, actor=owner.user, email=email, role=role)
            invitation_accept(token=token, user=user)
        report.append(f"{'created' if created else 'kept'} merchant {role} {email} of {merchant.display_name}")
    return report
