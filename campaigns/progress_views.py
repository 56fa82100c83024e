"""The web wallet's challenge progress (/wallet/challenges/) and the wallet home's tier card and
challenge summary (a section registered with ``wallet.home_sections``)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.request_types import AuthenticatedHttpRequest
from campaigns import progress_selectors, tier_selectors
from campaigns.progress_selectors import ChallengeStatus

CHALLENGES_PER_PAGE = 20
# The wallet home shows the challenges that end soonest; the rest are one link away.
HOME_CHALLENGES = 3


@login_required
def challenge_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    now = timezone.now()
    challenges = progress_selectors.challenges_taken_part(user=request.user, now=now)
    page = Paginator(challenges, CHALLENGES_PER_PAGE).get_page(request.GET.get("page"))
    views = progress_selectors.progress_views(page.object_list, now=now)
    ongoing = [view for view in views if view.status != ChallengeStatus.EXPIRED]
    ended = [view for view in views if view.status == ChallengeStatus.EXPIRED]
    return render(request, "campaigns/challenges.html", {"page_obj": page, "ongoing": ongoing, "ended": ended})


def wallet_home_section(request: HttpRequest) -> SafeString | None:
    """The tier card and the challenges ending soonest, for the wallet home."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    now = timezone.now()
    challenges = [
        view
        for view in progress_selectors.challenge_progress_of(user=user, now=now, limit=HOME_CHALLENGES)
        if view.status != ChallengeStatus.EXPIRED
    ]
    context = {"standing": tier_selectors.tier_standing(user=user, now=now), "challenges": challenges}
    # No request: the page's context processors (navigation) already ran once for the whole page.
    return render_to_string("campaigns/_wallet_progress.html", context)
