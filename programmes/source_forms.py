"""Forms of the linked-sources page: they check shapes; ``programmes.linked_sources`` checks the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cashback.forms import GuardedForm


class ShopLinkForm(GuardedForm):
    organisation_number = forms.CharField(
        label=_("Organisation number of the shop"),
        max_length=20,
        help_text=_("The shop as registered on the platform. Its card purchases count towards value targets."),
    )


class StripeLinkForm(GuardedForm):
    stripe_customer_id = forms.CharField(
        label=_("Stripe customer id"),
        max_length=64,
        help_text=_("On your Stripe account, e.g. cus_NffrFeUfNV2Hib. Its paid invoices count towards value targets."),
    )
