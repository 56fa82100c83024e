"""The staff page of closed accounts (/staff/erasures/): when each account was closed by its owner
and what the erasure removed (counts only; the person's data is gone). Support and up may read."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import selectors
from accounts.decorators import staff_required

PAGE_SIZE = 25
VIEW_AUDIT = "accounts.view_auditrecord"


@staff_required(VIEW_AUDIT)
def erasure_list(request: HttpRequest) -> HttpResponse:
    page_obj = Paginator(selectors.erasure_records(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "adminpanel/erasure_list.html", {"section": "erasures", "page_obj": page_obj})
