from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from accounts.request_types import AuthenticatedHttpRequest
from content.models import BannerPlacement
from content.selectors import banners_live
from wallet import selectors
from wallet.forms import EntryFilterForm
from wallet.home_sections import home_sections
from wallet.points import points_balance

ENTRIES_PER_PAGE = 25


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Balances per currency and the movements, newest first, filterable and paginated."""
    balances = selectors.wallet_balances(user=request.user)
    points = points_balance(user=request.user)
    form = EntryFilterForm(request.GET or None)
    filters = {key: value for key, value in form.cleaned_data.items() if value} if form.is_valid() else {}
    entries = selectors.wallet_entries(user=request.user, **filters)
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    return render(
        request,
        "wallet/home.html",
        {
            "balances": balances,
            "points": points,
            "is_new": all(balance.is_zero for balance in balances)
            and not points
            and not filters
            and not page.object_list,
            "form": form,
            "filtered": bool(filters),
            "page": page,
            "query_without_page": query_without_page.urlencode(),
            "home_sections": home_sections(request),
            "banners": banners_live(placement=BannerPlacement.WALLET_HOME),
        },
    )
