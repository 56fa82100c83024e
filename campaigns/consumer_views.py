"""The web wallet's purchases: every purchase with what it earned, or the rules' reasons why not."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render

from accounts.request_types import AuthenticatedHttpRequest
from campaigns import selectors
from campaigns.describe import describe_purchase
from campaigns.errors import PurchaseNotFoundError

PURCHASES_PER_PAGE = 20


def _explained(purchase):
    reward_on_auth = bool(getattr(settings, "REWARD_ON_AUTH", True))
    return describe_purchase(purchase, list(purchase.rewards.all()), reward_on_auth=reward_on_auth)


@login_required
def purchase_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.purchases_of(user=request.user), PURCHASES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(purchase, _explained(purchase)) for purchase in page.object_list]
    return render(request, "campaigns/purchases.html", {"page": page, "rows": rows})


@login_required
def purchase_detail(request: AuthenticatedHttpRequest, purchase_id: int) -> HttpResponse:
    try:
        purchase = selectors.purchase_of(user=request.user, purchase_id=purchase_id)
    except PurchaseNotFoundError as exc:
        raise Http404(exc.message) from exc
    return render(
        request,
        "campaigns/purchase_detail.html",
        {"purchase": purchase, "explained": _explained(purchase), "rewards": list(purchase.rewards.all())},
    )
