"""The field staff's pages in the merchant portal (``/portal/<merchant>/programmes/``). Thin: each view
checks the role (``field_role_required``), reads through ``selectors`` within the role's regions and
calls one service; domain errors become form errors."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from cashback.errors import DomainError, form_error_from
from programmes import selectors, services
from programmes.action_forms import CancelForm
from programmes.decorators import ANY_FIELD_ROLE, FieldRoleRequest, field_role_required
from programmes.errors import SalesFileError
from programmes.forms import (
    BudgetForm,
    ContractForm,
    CustomerForm,
    FieldRoleForm,
    ProgrammeForm,
    RejectForm,
    SalesUploadForm,
)
from programmes.models import (
    ADMIN_ROLES,
    Brand,
    Contract,
    FieldRole,
    FieldRoleChange,
    FieldRoleKind,
    Product,
    Region,
    RegionBudget,
)
from wallet.money import minor_to_decimal_string

SALES = FieldRoleKind.SALES
HEAD = FieldRoleKind.REGIONAL_HEAD
FINANCE = FieldRoleKind.FINANCE_ADMIN
OVERSEERS = (HEAD, *ADMIN_ROLES)


def _context(request: FieldRoleRequest, section: str, **extra: Any) -> dict[str, Any]:
    role = request.field_role
    return {
        "role": role,
        "merchant": role.brand_owner.merchant,
        "section": section,
        "can_register": role.role in (SALES, HEAD),
        "can_propose": role.role == SALES,
        "can_upload": role.role == FINANCE,
        "can_oversee": role.role in OVERSEERS,
        "can_set_up": role.role == FieldRoleKind.PROGRAMME_ADMIN,
        "can_market": role.role == FieldRoleKind.MARKETING_ADMIN,
        "can_monitor": role.role in (FieldRoleKind.MARKETING_ADMIN, FieldRoleKind.PROGRAMME_ADMIN),
        **extra,
    }


def entry(request: HttpRequest) -> HttpResponse:
    """``/programmes/``: the brand owners the person works for, or straight to the only one."""
    roles = selectors.field_roles_of(user=request.user)
    if not request.user.is_authenticated:
        return redirect("account_login")
    if not roles:
        raise Http404(gettext("You work in no programme."))
    if len(roles) == 1:
        return redirect("programmes:home", roles[0].brand_owner.merchant_id)
    return render(request, "programmes/entry.html", {"roles": roles})


@field_role_required(*ANY_FIELD_ROLE)
def home(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    if request.field_role.role in OVERSEERS:
        return redirect("programmes:dashboard", merchant_id)
    return redirect("programmes:contracts", merchant_id)


@field_role_required(*ANY_FIELD_ROLE)
def customers(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    page = Paginator(selectors.visible_customers(role=request.field_role), 25).get_page(request.GET.get("page"))
    return render(request, "programmes/customers.html", _context(request, "customers", page_obj=page))


@field_role_required(SALES, HEAD)
def customer_register(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    role = request.field_role
    form = CustomerForm(request.POST or None, regions=selectors.visible_regions(role=role))
    if request.method == "POST" and form.is_valid():
        try:
            business = services.customer_register(role=role, **form.cleaned_data)
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, f"{business.name} is registered. Now offer them a programme.")
            return redirect(f"{_url('programmes:contract_propose', merchant_id)}?customer={business.pk}")
    return render(request, "programmes/customer_form.html", _context(request, "customers", form=form))


def _url(name: str, *args: Any) -> str:
    return reverse(name, args=args)


@field_role_required(*ANY_FIELD_ROLE)
def contracts(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    status = request.GET.get("status", "")
    contracts = selectors.visible_contracts(role=request.field_role)
    if status in Contract.Status.values:
        contracts = contracts.filter(status=status)
    page = Paginator(contracts, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "programmes/contracts.html",
        _context(request, "contracts", page_obj=page, status=status, statuses=Contract.Status.choices),
    )


@field_role_required(SALES)
def contract_propose(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    role = request.field_role
    initial: dict[str, Any] = {}
    if request.GET.get("customer", "").isdigit():
        initial["customer"] = int(request.GET["customer"])
    programmes = selectors.live_programmes(role=role)
    if first := programmes.first():
        initial.update(starts_on=max(first.starts_on, _today()), expires_on=first.ends_on)
    form = ContractForm(
        request.POST or None,
        initial=initial,
        customers=selectors.visible_customers(role=role),
        programmes=programmes,
    )
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_propose(role=role, **form.cleaned_data)
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, gettext("The contract is proposed; the regional head will decide."))
            return redirect("programmes:contract", merchant_id, contract.pk)
    return render(request, "programmes/contract_form.html", _context(request, "contracts", form=form))


def _today() -> datetime.date:
    return timezone.localdate()


def _visible_contract(request: FieldRoleRequest, contract_id: int) -> Contract:
    return get_object_or_404(selectors.visible_contracts(role=request.field_role), pk=contract_id)


@field_role_required(*ANY_FIELD_ROLE)
def contract_detail(request: FieldRoleRequest, merchant_id: int, contract_id: int) -> HttpResponse:
    contract = _visible_contract(request, contract_id)
    return render(request, "programmes/contract_detail.html", _detail_context(request, contract))


def _detail_context(request: FieldRoleRequest, contract: Contract, **extra: Any) -> dict[str, Any]:
    target = selectors.contract_target(contract=contract)
    return _context(
        request,
        "contracts",
        contract=contract,
        tiers=selectors.contract_progress(contract=contract),
        target=target,
        percent=min(100, round(100 * contract.achieved / target)) if target else 0,
        events=contract.events.select_related("actor").order_by("created_at", "id"),
        can_decide=request.field_role.role == HEAD and contract.status == Contract.Status.PROPOSED,
        reject_form=extra.pop("reject_form", None) or RejectForm(),
        cancel_form=extra.pop("cancel_form", None) or CancelForm(),
        can_cancel=request.field_role.role in (HEAD, FieldRoleKind.PROGRAMME_ADMIN)
        and contract.status in (Contract.Status.PROPOSED, Contract.Status.APPROVED),
        **extra,
    )


@require_POST
@field_role_required(HEAD)
def contract_approve(request: FieldRoleRequest, merchant_id: int, contract_id: int) -> HttpResponse:
    contract = _visible_contract(request, contract_id)
    try:
        services.contract_approve(role=request.field_role, contract=contract)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("Approved: the contract's rewards are reserved from the region's budget."))
    return redirect("programmes:contract", merchant_id, contract.pk)


@require_POST
@field_role_required(HEAD)
def contract_reject(request: FieldRoleRequest, merchant_id: int, contract_id: int) -> HttpResponse:
    contract = _visible_contract(request, contract_id)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.contract_reject(role=request.field_role, contract=contract, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, gettext("Rejected; the sales person sees your reason."))
            return redirect("programmes:contract", merchant_id, contract.pk)
    contract.refresh_from_db()
    return render(request, "programmes/contract_detail.html", _detail_context(request, contract, reject_form=form))


@field_role_required(FINANCE)
def sales_upload(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    form = SalesUploadForm(request.POST or None, request.FILES or None)
    row_errors: list[tuple[int, str]] = []
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            upload = services.sales_file_apply(
                role=request.field_role, filename=upload_file.name or "sales.csv", content=upload_file.read()
            )
        except SalesFileError as error:
            row_errors = error.rows
            form_error_from(form, error)
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, f"{upload.row_count} sales rows applied; contracts reaching a tier were paid.")
            return redirect("programmes:sales_upload", merchant_id)
    uploads = request.field_role.brand_owner.sales_uploads.select_related("uploaded_by")[:10]
    return render(
        request,
        "programmes/sales_upload.html",
        _context(request, "upload", form=form, row_errors=row_errors, uploads=uploads),
    )


def _money(amount: int, currency: str) -> str:
    return minor_to_decimal_string(amount, currency)


@field_role_required(*OVERSEERS)
def dashboard(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    role = request.field_role
    programmes = list(selectors.programmes_of(role=role))
    chosen = request.GET.get("programme", "")
    programme = next((p for p in programmes if str(p.pk) == chosen), programmes[0] if programmes else None)
    board = selectors.dashboard(role=role, programme=programme) if programme else None
    chart = None
    if board is not None:
        chart = {
            "labels": [row.label for row in board.by_region],
            "achieved": [row.achieved for row in board.by_region],
            "target": [row.target for row in board.by_region],
            "unit": "units" if board.programme.target_kind == "volume" else board.programme.currency,
            "exponent": 0 if board.programme.target_kind == "volume" else 2,
        }
    return render(
        request,
        "programmes/dashboard.html",
        _context(
            request, "dashboard", programmes=programmes, board=board, chart=chart, can_budget=role.role == FINANCE
        ),
    )


@field_role_required(FINANCE)
def budget_edit(request: FieldRoleRequest, merchant_id: int, budget_id: int) -> HttpResponse:
    budget = get_object_or_404(
        RegionBudget.objects.select_related("programme", "region"),
        pk=budget_id,
        programme__brand_owner=request.field_role.brand_owner,
    )
    currency = budget.programme.currency
    form = BudgetForm(
        request.POST or None, currency=currency, initial={"amount": _money(budget.amount_minor, currency)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.region_budget_set(
                role=request.field_role,
                programme=budget.programme,
                region=budget.region,
                amount_minor=form.cleaned_data["amount"],
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, gettext("The budget of %(region)s is set.") % {"region": budget.region})
            return redirect(f"{_url('programmes:dashboard', merchant_id)}?programme={budget.programme_id}")
    return render(
        request,
        "programmes/budget_form.html",
        _context(request, "dashboard", form=form, budget=budget),
    )


@field_role_required(FieldRoleKind.PROGRAMME_ADMIN)
def programme_create(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    role = request.field_role
    brand_owner = role.brand_owner
    form = ProgrammeForm(
        request.POST or None,
        brands=Brand.objects.filter(brand_owner=brand_owner),
        regions=Region.objects.filter(brand_owner=brand_owner),
        currency=brand_owner.currency,
        reward_items=brand_owner.reward_items.order_by("name"),
        products=Product.objects.filter(brand_owner=brand_owner).select_related("brand").order_by("name", "pk"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            programme = services.programme_create(
                role=role,
                name=data["name"],
                target_kind=data["target_kind"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                tiers=data["tiers"],
                brands=data["brands"],
                products=data["products"],
                budgets=data["budgets"],
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, f"{programme.name} is set up; sales can offer it now.")
            return redirect(f"{_url('programmes:dashboard', merchant_id)}?programme={programme.pk}")
    return render(request, "programmes/programme_form.html", _context(request, "dashboard", form=form))


@field_role_required(*ANY_FIELD_ROLE)
def team(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    """The brand owner's field staff; the programme admin gives roles here."""
    role = request.field_role
    regions = Region.objects.filter(brand_owner_id=role.brand_owner_id)
    form = FieldRoleForm(request.POST or None, regions=regions)
    if request.method == "POST":
        if role.role != FieldRoleKind.PROGRAMME_ADMIN:
            raise PermissionDenied(gettext("Only the programme admin gives roles."))
        if form.is_valid():
            data = form.cleaned_data
            try:
                granted = services.field_role_assign(
                    actor=role, email=data["email"], role=data["role"], regions=list(data["regions"])
                )
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(request, f"{granted.user} is now {granted.get_role_display().lower()}.")
                return redirect("programmes:team", merchant_id)
    people = (
        FieldRole.objects.filter(brand_owner_id=role.brand_owner_id)
        .select_related("user")
        .prefetch_related("regions")
        .order_by("role", "user__full_name", "pk")
    )
    history = (
        FieldRoleChange.objects.filter(brand_owner_id=role.brand_owner_id)
        .select_related("person", "actor")
        .order_by("-created_at", "-pk")[:20]
    )
    return render(request, "programmes/team.html", _context(request, "team", form=form, people=people, history=history))
