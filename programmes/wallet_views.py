"""The member's actions log in the web wallet (``/wallet/actions/``): every action reported, and what it
earned or why not. The app's twin is ``GET /api/v1/actions/`` (``programmes.apis``)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from accounts.request_types import AuthenticatedHttpRequest
from programmes.action_selectors import actions_of, outcome_lines

ACTIONS_PER_PAGE = 20


@login_required
def actions_log(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(actions_of(user=request.user), ACTIONS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(report, outcome_lines(report)) for report in page.object_list]
    return render(request, "programmes/actions_log.html", {"page": page, "rows": rows})
