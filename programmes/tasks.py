"""Celery entry points of programmes: stale catalogue redemptions, daily birthdays for the action rules,
and expiring contracts (their unpaid commitment goes back to the region's budget). Each is safe to run
twice."""

from celery import shared_task

from programmes.action_sources import birthdays_report
from programmes.catalogue import redemptions_settle_stale
from programmes.contract_closing import contracts_expire
from programmes.linked_sources import source_link_catch_up as catch_up


@shared_task
def redemptions_settle() -> int:
    """Every 5 minutes: issue or fail catalogue redemptions left pending (a process died between the
    hold and the voucher); their holds would otherwise only expire, with the stock still taken."""
    return redemptions_settle_stale()


@shared_task
def action_birthdays_report() -> int:
    """Daily: report today's birthdays to the birthday rules (once per person and year)."""
    return birthdays_report()


@shared_task
def contracts_expire_due() -> int:
    """Daily: expire approved contracts past their last day and release what they did not pay."""
    return contracts_expire()


@shared_task
def source_link_catch_up(link_id: int) -> int:
    """A few seconds after a shop or Stripe customer is linked: count what it already recorded."""
    return catch_up(link_id=link_id)
