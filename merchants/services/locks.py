"""The merchant's row lock, which every change that must see one state of the merchant takes first."""

from merchants.models import Merchant


def merchant_lock(merchant: Merchant) -> Merchant:
    """Lock the merchant's row (until the caller's transaction ends) and return it freshly read."""
    return Merchant.objects.select_for_update().get(pk=merchant.pk)
