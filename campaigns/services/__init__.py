"""Every write of campaigns, one module per job:

- ``offers``: the offer status machine and its review, edits, line-item rules, budgets;
- ``challenges``: challenges and each consumer's progress and bonus;
- ``purchases``: purchase events from every source and the state derived from them;
- ``purchase_rewards``: a purchase's rewards decided by the rules engine and brought to target;
- ``rewards``: the ledger side of a reward (booking, reversal, status);
- ``maturity``, ``expiry``, ``monthly``: the scheduled jobs on rewards;
- ``partner_orders``: orders and refunds reported through the partner API;
- ``tiers``, ``cost_preview``, ``deadlocks``.

The names other modules, apps, tasks and tests use are re-exported here, so
``from campaigns.services import x`` and ``services.x`` keep working.
"""

from campaigns.services.challenges import challenge_delete, challenge_progress_value, challenge_save
from campaigns.services.cost_preview import CostEstimate, cost_preview
from campaigns.services.expiry import reward_expiry_warnings_send, rewards_expire_due, unused_credits
from campaigns.services.maturity import reward_hold, reward_hold_release, reward_mature, rewards_mature_due
from campaigns.services.monthly import monthly_reward_credit, monthly_rewards_credit
from campaigns.services.offers import (
    ALLOWED_TRANSITIONS,
    EDITABLE_STATUSES,
    OFFER_FIELDS,
    line_item_rule_add,
    line_item_rule_delete,
    offer_activate_due,
    offer_approve,
    offer_budget_consume,
    offer_budget_return,
    offer_create,
    offer_duplicate,
    offer_end_due,
    offer_field_problems,
    offer_pause,
    offer_reject,
    offer_resume,
    offer_submit_for_review,
    offer_update,
)
from campaigns.services.partner_orders import partner_order_record, partner_refund_record
from campaigns.services.purchase_rewards import earning_basis, purchase_facts
from campaigns.services.purchases import purchase_event_apply
from campaigns.services.rewards import reward_on_auth, reward_status
from campaigns.services.tiers import tier_recompute, tier_recompute_many

__all__ = [
    "ALLOWED_TRANSITIONS",
    "EDITABLE_STATUSES",
    "OFFER_FIELDS",
    "CostEstimate",
    "challenge_delete",
    "challenge_progress_value",
    "challenge_save",
    "cost_preview",
    "earning_basis",
    "line_item_rule_add",
    "line_item_rule_delete",
    "monthly_reward_credit",
    "monthly_rewards_credit",
    "offer_activate_due",
    "offer_approve",
    "offer_budget_consume",
    "offer_budget_return",
    "offer_create",
    "offer_duplicate",
    "offer_end_due",
    "offer_field_problems",
    "offer_pause",
    "offer_reject",
    "offer_resume",
    "offer_submit_for_review",
    "offer_update",
    "partner_order_record",
    "partner_refund_record",
    "purchase_event_apply",
    "purchase_facts",
    "reward_expiry_warnings_send",
    "reward_hold",
    "reward_hold_release",
    "reward_mature",
    "reward_on_auth",
    "reward_status",
    "rewards_expire_due",
    "rewards_mature_due",
    "tier_recompute",
    "tier_recompute_many",
    "unused_credits",
]
