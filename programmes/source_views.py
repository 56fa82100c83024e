"""Pages of achievement from linked sources and the customer's own contract page.

- ``/portal/<merchant>/programmes/customers/<id>/sources/``: field staff see a customer's linked shops and
  Stripe customer ids; the programme admin, the customer's sales person and regional head link and unlink
  them (``programmes.linked_sources``; a bad value is a form error).
- ``/wallet/programmes/`` and ``/wallet/programmes/<id>/``: the business customer's contracts, and one
  contract's progress, what counted (paginated), rewards and expiry. Only the customer's person and the
  field staff who see the contract; anyone else 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.request_types import AuthenticatedHttpRequest
from cashback.errors import DomainError, form_error_from
from programmes import linked_sources, selectors
from programmes.contract_page import COLUMNS, contract_for_viewer, contracts_of_person, counted_rows
from programmes.decorators import ANY_FIELD_ROLE, FieldRoleRequest, field_role_required
from programmes.models import CustomerSourceLink, FieldRoleKind
from programmes.source_forms import ShopLinkForm, StripeLinkForm
from programmes.views import _context

ROWS_PER_PAGE = 20
LINKERS = (FieldRoleKind.SALES, FieldRoleKind.REGIONAL_HEAD, FieldRoleKind.PROGRAMME_ADMIN)


def _sources_page(
    request: FieldRoleRequest, customer_id: int, *, shop_form: ShopLinkForm, stripe_form: StripeLinkForm
) -> HttpResponse:
    customer = get_object_or_404(selectors.visible_customers(role=request.field_role), pk=customer_id)
    links = customer.source_links.select_related("merchant", "linked_by", "removed_by").order_by("-created_at", "-id")
    return render(
        request,
        "programmes/customer_sources.html",
        _context(
            request,
            "customers",
            customer=customer,
            links=links,
            can_link=request.field_role.role in LINKERS,
            shop_form=shop_form,
            stripe_form=stripe_form,
        ),
    )


@field_role_required(*ANY_FIELD_ROLE)
def customer_sources(request: FieldRoleRequest, merchant_id: int, customer_id: int) -> HttpResponse:
    return _sources_page(request, customer_id, shop_form=ShopLinkForm(), stripe_form=StripeLinkForm())


@require_POST
@field_role_required(*LINKERS)
def customer_source_link(request: FieldRoleRequest, merchant_id: int, customer_id: int, kind: str) -> HttpResponse:
    customer = get_object_or_404(selectors.visible_customers(role=request.field_role), pk=customer_id)
    shop_form, stripe_form = ShopLinkForm(), StripeLinkForm()
    form: ShopLinkForm | StripeLinkForm
    if kind == "shop":
        form = shop_form = ShopLinkForm(request.POST)
    elif kind == "stripe":
        form = stripe_form = StripeLinkForm(request.POST)
    else:
        raise Http404("No such source.")
    if form.is_valid():
        try:
            if isinstance(form, ShopLinkForm):
                linked_sources.source_link_shop(role=request.field_role, customer=customer, **form.cleaned_data)
            else:
                linked_sources.source_link_stripe(role=request.field_role, customer=customer, **form.cleaned_data)
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(
                request, _("Linked. Its purchases within the contracts' dates count towards value targets.")
            )
            return redirect("programmes:customer_sources", merchant_id, customer.pk)
    return _sources_page(request, customer.pk, shop_form=shop_form, stripe_form=stripe_form)


@require_POST
@field_role_required(*LINKERS)
def customer_source_unlink(request: FieldRoleRequest, merchant_id: int, customer_id: int, link_id: int) -> HttpResponse:
    customer = get_object_or_404(selectors.visible_customers(role=request.field_role), pk=customer_id)
    link = get_object_or_404(CustomerSourceLink, pk=link_id, customer=customer)
    try:
        linked_sources.source_unlink(role=request.field_role, link=link)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Unlinked. What it counted so far stays counted."))
    return redirect("programmes:customer_sources", merchant_id, customer.pk)


# --- The business customer's own pages --------------------------------------------------------------


@login_required
def my_contracts(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(contracts_of_person(user=request.user), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "programmes/my_contracts.html", {"page": page})


@login_required
def my_contract(request: AuthenticatedHttpRequest, contract_id: int) -> HttpResponse:
    contract = contract_for_viewer(user=request.user, contract_id=contract_id)
    if contract is None:
        raise Http404("No such contract.")
    tiers = selectors.contract_progress(contract=contract)
    target = selectors.contract_target(contract=contract)
    page = Paginator(counted_rows(contract=contract), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    rows: list[dict[str, Any]] = [dict(zip(COLUMNS, row, strict=True)) for row in page.object_list]
    rewards = contract.tier_rewards.select_related("tier").order_by("tier__rank")
    return render(
        request,
        "programmes/my_contract.html",
        {
            "contract": contract,
            "programme": contract.programme,
            "tiers": tiers,
            "target": target,
            "percent": min(100, round(100 * contract.achieved / target)) if target else 0,
            "page": page,
            "rows": rows,
            "rewards": rewards,
            "is_customer": contract.customer.user_id == request.user.pk,
        },
    )
