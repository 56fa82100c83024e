"""Who may open what in the staff panel: every /staff/ URL by role → the expected answer.

The table below names, for each /staff/ URL (found by walking the URL resolver), the staff roles
that may use it; everyone else gets 403, and an anonymous visitor is sent to log in. A /staff/ URL
missing from the table (or a row whose URL is gone) fails ``test_every_staff_url_is_in_the_table``:
add one line per new URL. Pages are checked with GET, actions (POST-only views) with POST.

Ids in the URLs are 0 unless a row says otherwise (``kwargs``), so a role that may open a detail page
gets 404 (``ok=404``) — what matters here is that it is not 403 — and the others 403 before any lookup.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.accounts.factories import UserFactory
from tests.merchants.factories import MembershipFactory

pytestmark = pytest.mark.django_db

S, M, F, A = "support", "marketing", "finance", "administrator"
STAFF = frozenset({S, M, F, A})
ROLES = (S, M, F, A, "merchant staff", "consumer", "anonymous")
PERSON = -1  # replaced by the id of a consumer made for the test


@dataclass(frozen=True)
class Page:
    """A GET page: ``roles`` may open it and get ``ok``."""

    roles: frozenset[str]
    kwargs: dict[str, int | str] = field(default_factory=dict)
    ok: int = 200


@dataclass(frozen=True)
class Action:
    """A POST-only action: ``roles`` get past the guard (what the action then answers is tested elsewhere)."""

    roles: frozenset[str]
    kwargs: dict[str, int | str] = field(default_factory=dict)


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


TABLE: dict[str, Page | Action] = {
    # Overview
    "adminpanel:index": Page(STAFF),
    # People (issue 16)
    "adminpanel:user_list": Page(STAFF),
    "adminpanel:user_detail": Page(STAFF, {"user_id": PERSON}),
    "adminpanel:user_block": Action(roles(F, A), {"user_id": PERSON}),
    "adminpanel:user_unblock": Action(roles(F, A), {"user_id": PERSON}),
    "adminpanel:user_create": Page(roles(S, A)),
    "adminpanel:user_invite": Action(roles(S, A), {"user_id": PERSON}),
    "adminpanel:role_list": Page(roles(A)),
    "adminpanel:role_edit": Page(roles(A), {"user_id": PERSON}),
    "adminpanel:audit_list": Page(roles(S, F, A)),
    "adminpanel:audit_export": Page(roles(A)),
    "adminpanel:erasure_list": Page(roles(S, F, A)),
    # Merchants & offers
    "adminpanel:merchant_list": Page(roles(F, A)),
    "adminpanel:merchant_queue": Page(roles(F, A)),
    "adminpanel:merchant_detail": Page(roles(F, A), {"merchant_id": 0}, ok=404),
    "adminpanel:merchant_approve": Action(roles(A), {"merchant_id": 0}),
    "adminpanel:merchant_reject": Action(roles(A), {"merchant_id": 0}),
    "adminpanel:merchant_suspend": Action(roles(A), {"merchant_id": 0}),
    "adminpanel:merchant_reinstate": Action(roles(A), {"merchant_id": 0}),
    "campaigns_staff:queue": Page(roles(M, A)),
    "campaigns_staff:review": Page(roles(M, A), {"offer_id": 0}, ok=404),
    "campaigns_staff:decide": Action(roles(M, A), {"offer_id": 0}),
    "referrals_staff:queue": Page(roles(M, A)),
    "referrals_staff:program": Page(roles(M, A)),
    "referrals_staff:review": Page(roles(M, A), {"referral_id": 0}, ok=404),
    "referrals_staff:decide": Action(roles(M, A), {"referral_id": 0}),
    # Money
    "payouts_staff:list": Page(roles(S, F, A)),
    "payouts_staff:failed": Page(roles(S, F, A)),
    "adminpanel:adjustment_list": Page(roles(F, A)),
    "adminpanel:adjustment_new": Page(roles(F, A)),
    "adminpanel:adjustment_detail": Page(roles(F, A), {"adjustment_id": 0}, ok=404),
    "adminpanel:adjustment_approve": Action(roles(F, A), {"adjustment_id": 0}),
    "adminpanel:adjustment_reject": Action(roles(F, A), {"adjustment_id": 0}),
    "adminpanel:invoice_list": Page(roles(F, A)),
    "adminpanel:analytics": Page(roles(F, A)),
    "adminpanel:cashback_forecast": Page(roles(F, A)),
    "adminpanel:cashback_forecast_export": Page(roles(F, A)),
    "payouts_staff:release": Action(roles(F, A), {"payout_id": 0}),
    "payouts_staff:reject": Action(roles(F, A), {"payout_id": 0}),
    "charity:staff_list": Page(roles(S, F, A)),
    "charity:staff_create": Page(roles(F, A)),
    "charity:staff_detail": Page(roles(S, F, A), {"charity_id": 0}, ok=404),
    "charity:staff_disbursements": Page(roles(S, F, A)),
    "charity:staff_disbursement_send": Action(roles(F, A), {"disbursement_id": 0}),
    # Monitoring (issue 16): support looks and holds; finance clears and escalates
    "monitoring:purchase_search": Page(roles(S, F, A)),
    "monitoring:flag_list": Page(roles(S, F, A)),
    "monitoring:flag_detail": Page(roles(S, F, A), {"flag_id": 0}, ok=404),
    "monitoring:flag_hold": Action(roles(S, F, A), {"flag_id": 0}),
    "monitoring:flag_clear": Action(roles(F, A), {"flag_id": 0}),
    "monitoring:flag_escalate": Action(roles(F, A), {"flag_id": 0}),
    # Content and announcements (issues 16 and 17): marketing's
    "content_staff:index": Page(roles(M, A)),
    "content_staff:create": Page(roles(M, A), {"kind_slug": "pages"}),
    "content_staff:edit": Page(roles(M, A), {"kind_slug": "pages", "item_id": 0}, ok=404),
    "content_staff:preview": Page(roles(M, A), {"kind_slug": "pages", "item_id": 0}, ok=404),
    "content_staff:publish": Action(roles(M, A), {"kind_slug": "pages", "item_id": 0}),
    "content_staff:withdraw": Action(roles(M, A), {"kind_slug": "pages", "item_id": 0}),
    "content_staff:history": Page(roles(M, A), {"kind_slug": "pages", "item_id": 0}, ok=404),
    "content_staff:version": Page(roles(M, A), {"kind_slug": "pages", "item_id": 0, "number": 1}, ok=404),
    "content_staff:restore": Action(roles(M, A), {"kind_slug": "pages", "item_id": 0, "number": 1}),
    "announcements:list": Page(roles(M, A)),
    "announcements:detail": Page(roles(M, A), {"announcement_id": 0}, ok=404),
    # Platform
    "inbox:staff_list": Page(roles(S, F, A)),
    "inbox:staff_detail": Page(roles(S, F, A), {"event_pk": 0}, ok=404),
    "inbox:staff_retry": Action(roles(F, A), {"event_pk": 0}),
    "adminpanel:fact_list": Page(roles(S, F, A)),
    "adminpanel:fact_retry": Action(roles(F, A), {"delivery_id": 0}),
}


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            name_space = f"{namespace}:{inner}".strip(":") if inner else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), name_space)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + str(pattern.pattern), f"{namespace}:{pattern.name}" if namespace else pattern.name


def staff_url_names() -> set[str]:
    return {name for path, name in _walk(get_resolver().url_patterns) if path.startswith("staff/")}


def test_every_staff_url_is_in_the_table():
    found = staff_url_names()

    assert found - TABLE.keys() == set(), "a /staff/ URL has no row in TABLE: say which roles may use it"
    assert TABLE.keys() - found == set(), "a row of TABLE names a URL that no longer exists"


@pytest.fixture
def visitor(client, staff_with_role):
    """Log ``client`` in as someone of the given role (or nobody, for "anonymous")."""

    def log_in(role: str) -> None:
        client.logout()
        if role == "anonymous":
            return
        if role == "merchant staff":
            user = MembershipFactory(role="owner").user
        elif role == "consumer":
            user = UserFactory()
        else:
            user = staff_with_role(role)
        client.force_login(user)

    return log_in


@pytest.mark.parametrize("name", sorted(TABLE))
def test_each_role_gets_what_the_table_says(client, visitor, name):
    row = TABLE[name]
    person = UserFactory()
    kwargs = {key: person.pk if value == PERSON else value for key, value in row.kwargs.items()}
    url = reverse(name, kwargs=kwargs)
    answers = {}
    for role in ROLES:
        visitor(role)
        response = client.post(url, {}) if isinstance(row, Action) else client.get(url)
        answers[role] = response.status_code
        if role == "anonymous":
            assert response.status_code == 302 and response.url.startswith(reverse("account_login")), name
        elif role not in row.roles:
            assert response.status_code == 403, (name, role)
        elif isinstance(row, Page):
            assert response.status_code == row.ok, (name, role, response.status_code)
        else:
            assert response.status_code != 403 and not (
                response.status_code == 302 and response.url.startswith(reverse("account_login"))
            ), (name, role)
    assert answers["anonymous"] == 302
