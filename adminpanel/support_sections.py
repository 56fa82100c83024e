"""The sections of a person's support page (/staff/users/<id>/), one line each.

Each section is a template fragment with its own context function and the permission a viewer
needs to see it. The support view renders the sections the viewer may see, in ``order``; apps
below the admin panel never import this module: their section is listed here, by the admin panel.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from adminpanel import people_sections
from monitoring import selectors as monitoring_selectors
from wallet.adjustment_selectors import adjustments_of_user

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class SupportSection:
    key: str
    title: "StrOrPromise"
    template: str
    context: Callable[[User], dict[str, Any]]
    permission: str
    order: int


SECTIONS: list[SupportSection] = []
"""Filled below, one entry per section; keys are unique (a test holds it)."""

SECTIONS.append(
    SupportSection(
        key="adjustments",
        title=_("Manual adjustments"),
        template="adminpanel/support_adjustments.html",
        context=lambda user: {"adjustments": adjustments_of_user(user=user), "person": user},
        permission="wallet.view_adjustment",
        order=60,
    )
)


def sections_for(*, viewer: User) -> list[SupportSection]:
    """The sections ``viewer`` may see, in display order."""
    return sorted((s for s in SECTIONS if viewer.has_perm(s.permission)), key=lambda s: (s.order, s.key))


_P = "adminpanel/support/"
SECTIONS.append(
    SupportSection("profile", _("Profile"), _P + "profile.html", people_sections.profile, "accounts.view_user", 10)
)
SECTIONS.append(
    SupportSection(
        "consents", _("Consents"), _P + "consents.html", people_sections.consents, "accounts.view_consent", 20
    )
)
SECTIONS.append(
    SupportSection("cards", _("Linked cards"), _P + "cards.html", people_sections.cards, "accounts.view_card", 30)
)
SECTIONS.append(
    SupportSection("wallet", _("Wallet"), _P + "wallet.html", people_sections.wallet, "wallet.view_ledgeraccount", 40)
)
SECTIONS.append(
    SupportSection(
        "purchases", _("Purchases"), _P + "purchases.html", people_sections.purchases, "campaigns.view_purchase", 50
    )
)
SECTIONS.append(
    SupportSection("payouts", _("Payouts"), _P + "payouts.html", people_sections.payouts, "wallet.view_payout", 60)
)
SECTIONS.append(
    SupportSection(
        "donations", _("Donations"), _P + "donations.html", people_sections.donations, "charity.view_charity", 70
    )
)
SECTIONS.append(
    SupportSection(
        "referrals", _("Referrals"), _P + "referrals.html", people_sections.referrals, "referrals.view_referral", 80
    )
)
SECTIONS.append(
    SupportSection(
        "notifications",
        _("Notifications sent"),
        _P + "notifications.html",
        people_sections.notifications,
        "notifications.view_notification",
        90,
    )
)
SECTIONS.append(
    SupportSection(
        key="fraud_flags",
        title=_("Fraud flags"),
        template="monitoring/_person_flags.html",
        context=monitoring_selectors.person_flags_context,
        permission="monitoring.view_fraudflag",
        order=95,
    )
)
