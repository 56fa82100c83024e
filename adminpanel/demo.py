"""Demo data of the staff panel for seed_demo (registered in AdminpanelConfig.ready()).

- The demo merchant's staff: an owner and an analyst of the demo merchant, each with their own account,
  joined through the merchants' invitation services like any team member.
- Manual adjustments worth looking at on /staff/adjustments/: one approved (a credit to the demo
  consumer's available cashback, posted), one rejected (a debit to a charity's account), one waiting
  for a second approver (a credit to the demo merchant's funding). Each is found by its reason before it
  is made, so a second run changes nothing; the approved one goes through the same services as the
  pages (a different finance person approves it).
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.demo import DEMO_CONSUMER_EMAIL, DEMO_PASSWORD
from accounts.models import User
from accounts.services import FINANCE
from charity.models import Charity
from merchants.demo import DEMO_ORG_NUMBER
from merchants.models import Merchant
from merchants.services.team import invitation_accept, invitation_send
from wallet.adjustments import adjustment_approve, adjustment_propose, adjustment_reject
from wallet.models import AccountKind, Adjustment, AdjustmentStatus

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


DEMO_FINANCE = [
    {"email": "finance@demo.cashback.example", "full_name": "Finn Finance"},
    {"email": "finance2@demo.cashback.example", "full_name": "Frida Finance"},
]
APPROVED_REASON = "Demo: cashback missed for a receipt the shop confirmed by e-mail"
REJECTED_REASON = "Demo: correct a donation booked twice (it was not: rejected)"
PROPOSED_REASON = "Demo: goodwill credit after a failed checkout at the demo shop"


def _finance_people() -> list:
    User = get_user_model()
    group = Group.objects.get(name=FINANCE)
    people = []
    for spec in DEMO_FINANCE:
        person, created = User.objects.get_or_create(
            email=spec["email"], defaults={"full_name": spec["full_name"], "is_staff": True}
        )
        if created:
            person.set_password(DEMO_PASSWORD)
            person.save(update_fields=["password"])
        person.groups.add(group)
        people.append(person)
    return people


def seed_demo_adjustments() -> list[str]:
    proposer, approver = _finance_people()
    report = [f"finance staff {p.email} (password: {DEMO_PASSWORD})" for p in (proposer, approver)]
    consumer = get_user_model().objects.filter(email=DEMO_CONSUMER_EMAIL).first()
    merchant = Merchant.objects.order_by("pk").first()
    charity = Charity.objects.order_by("pk").first()
    if consumer is None or merchant is None or charity is None:
        return [*report, "skipped demo adjustments (no demo consumer, merchant or charity)"]
    wanted: list[tuple[str, dict[str, Any], int]] = [
        (APPROVED_REASON, {"user": consumer, "kind": AccountKind.CONSUMER_AVAILABLE, "direction": "credit"}, 4_900),
        (
            REJECTED_REASON,
            {"owner_key": charity.owner_key, "kind": AccountKind.CHARITY_PAYABLE, "direction": "debit"},
            2_500,
        ),
        (
            PROPOSED_REASON,
            {"owner_key": merchant.ledger_owner_key, "kind": AccountKind.MERCHANT_FUNDING, "direction": "credit"},
            15_000,
        ),
    ]
    for reason, target, amount in wanted:
        if Adjustment.objects.filter(reason=reason).exists():
            report.append(f"kept adjustment “{reason}”")
            continue
        adjustment = adjustment_propose(actor=proposer, currency="NOK", amount_minor=amount, reason=reason, **target)
        if reason == APPROVED_REASON:
            adjustment_approve(adjustment_id=adjustment.pk, actor=approver)
        elif reason == REJECTED_REASON:
            adjustment_reject(adjustment_id=adjustment.pk, actor=approver, note="The donation was booked once.")
        adjustment.refresh_from_db()
        report.append(f"created adjustment {adjustment.pk} ({AdjustmentStatus(adjustment.status).label.lower()})")
    return report
