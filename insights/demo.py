"""Demo figures: the daily figures built for the demo merchant's year (campaigns.demo_year seeds it).

Runs after campaigns' and charity's seeders; rebuilding is idempotent, so seeding twice changes nothing.
"""

from insights.figures import figures_rebuild
from merchants.models import Merchant

DEMO_MERCHANT_ORG_NUMBER = "923609016"


def seed_demo_figures() -> list[str]:
    merchant = Merchant.objects.filter(organisation_number=DEMO_MERCHANT_ORG_NUMBER).first()
    if merchant is None:
        return ["no demo merchant: skipped the insights figures"]
    done = figures_rebuild(merchant_id=merchant.pk)
    return [f"built {done['rows']} insights figure rows for {merchant.display_name}"]
