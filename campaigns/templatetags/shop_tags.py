"""The home page's "offers running now" (the home view lives in the base app, which cannot read offers)."""

from django import template

from campaigns.shop_selectors import home_offer_cards

register = template.Library()


@register.inclusion_tag("campaigns/shops/_home_offers.html")
def live_offers_teaser() -> dict:
    """A few live offers, one per shop, each linking to its shop's page."""
    return {"rows": home_offer_cards()}
