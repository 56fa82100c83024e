"""Pages added with rewards for actions (``/portal/<merchant>/programmes/...``): the marketing admin's
action rules, the programme admin's master data (regions, brands, products), and cancelling a contract.
Thin, as ``programmes.views``: the role decorator, a form, one service; domain errors become form errors."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cashback.errors import DomainError, form_error_from
from programmes import actions, master_data, selectors
from programmes.action_forms import ActionRuleForm, BrandForm, CancelForm, ProductForm, RegionForm, RenameForm
from programmes.action_selectors import recent_outcomes, rules_of
from programmes.contract_closing import contract_cancel as cancel_contract
from programmes.decorators import FieldRoleRequest, field_role_required
from programmes.master_data import MasterItem
from programmes.models import ActionRule, Brand, Contract, FieldRole, FieldRoleKind, Product, Region
from programmes.team import field_role_remove
from programmes.views import _context, _detail_context

MARKETING = FieldRoleKind.MARKETING_ADMIN
PROGRAMME_ADMIN = FieldRoleKind.PROGRAMME_ADMIN


@field_role_required(MARKETING)
def action_rules(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    brand_owner = request.field_role.brand_owner
    return render(
        request,
        "programmes/action_rules.html",
        _context(
            request,
            "actions",
            rules=rules_of(brand_owner=brand_owner),
            outcomes=recent_outcomes(brand_owner=brand_owner),
        ),
    )


def _rule_form_page(request: FieldRoleRequest, merchant_id: int, rule: ActionRule | None) -> HttpResponse:
    role = request.field_role
    initial = ActionRuleForm.initial_of(rule) if rule else {"active_from": timezone.localdate()}
    form = ActionRuleForm(request.POST or None, initial=initial, currency=role.brand_owner.currency)
    if request.method == "POST" and form.is_valid():
        try:
            saved = actions.action_rule_save(role=role, rule=rule, **form.service_arguments())
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("The rule “%(name)s” is saved.") % {"name": saved.name})
            return redirect("programmes:action_rules", merchant_id)
    return render(request, "programmes/action_rule_form.html", _context(request, "actions", form=form, rule=rule))


@field_role_required(MARKETING)
def action_rule_create(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    return _rule_form_page(request, merchant_id, None)


@field_role_required(MARKETING)
def action_rule_edit(request: FieldRoleRequest, merchant_id: int, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(ActionRule, pk=rule_id, brand_owner_id=request.field_role.brand_owner_id)
    return _rule_form_page(request, merchant_id, rule)


@field_role_required(PROGRAMME_ADMIN)
def master_data_page(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    """Regions, brands and products on one page, a form for each (the hidden ``form`` says which)."""
    role = request.field_role
    brands = Brand.objects.filter(brand_owner_id=role.brand_owner_id)
    posted = request.POST.get("form") if request.method == "POST" else None
    region_form = RegionForm(request.POST if posted == "region" else None, prefix="region")
    brand_form = BrandForm(request.POST if posted == "brand" else None, prefix="brand")
    product_form = ProductForm(request.POST if posted == "product" else None, prefix="product", brands=brands)
    chosen = {"region": region_form, "brand": brand_form, "product": product_form}.get(posted or "")
    if chosen is not None and chosen.is_valid():
        data = chosen.cleaned_data
        try:
            if chosen is region_form:
                created: object = master_data.region_add(role=role, name=data["name"])
            elif chosen is brand_form:
                created = master_data.brand_add(role=role, name=data["name"])
            else:
                created = master_data.product_add(role=role, brand=data["brand"], sku=data["sku"], name=data["name"])
        except DomainError as error:
            form_error_from(chosen, error)
        else:
            messages.success(request, _("%(name)s is added.") % {"name": created})
            return redirect("programmes:master_data", merchant_id)
    return render(
        request,
        "programmes/master_data.html",
        _context(
            request,
            "master_data",
            regions=Region.objects.filter(brand_owner_id=role.brand_owner_id),
            brands=brands,
            products=Product.objects.filter(brand_owner_id=role.brand_owner_id).select_related("brand"),
            region_form=region_form,
            brand_form=brand_form,
            product_form=product_form,
        ),
    )


@require_POST
@field_role_required(FieldRoleKind.REGIONAL_HEAD, PROGRAMME_ADMIN)
def contract_cancel(request: FieldRoleRequest, merchant_id: int, contract_id: int) -> HttpResponse:
    contract = get_object_or_404(selectors.visible_contracts(role=request.field_role), pk=contract_id)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            cancel_contract(role=request.field_role, contract=contract, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Cancelled: what it did not pay is back in the region's budget."))
            return redirect("programmes:contract", merchant_id, contract.pk)
    contract = Contract.objects.get(pk=contract.pk)
    return render(request, "programmes/contract_detail.html", _detail_context(request, contract, cancel_form=form))


MASTER_KINDS: dict[str, type[Region] | type[Brand] | type[Product]] = {
    "region": Region,
    "brand": Brand,
    "product": Product,
}


@field_role_required(PROGRAMME_ADMIN)
def master_item(request: FieldRoleRequest, merchant_id: int, kind: str, item_id: int) -> HttpResponse:
    """Rename a region, brand or product, or remove it when nothing uses it (``action`` says which)."""
    model = MASTER_KINDS.get(kind)
    if model is None:
        raise Http404("No such kind.")
    role = request.field_role
    item = cast(MasterItem, get_object_or_404(model.objects.all(), pk=item_id, brand_owner_id=role.brand_owner_id))
    form = RenameForm(request.POST or None, initial={"name": item.name})
    if request.method == "POST" and form.is_valid():
        removing = form.cleaned_data["action"] == "remove"
        old_name = item.name
        try:
            if removing:
                master_data.master_item_remove(role=role, item=item)
            else:
                master_data.master_item_rename(role=role, item=item, name=form.cleaned_data["name"])
        except DomainError as error:
            item.name = old_name
            form_error_from(form, error)
        else:
            if removing:
                messages.success(request, _("%(name)s is removed.") % {"name": old_name})
            else:
                messages.success(request, _("%(old)s is now %(new)s.") % {"old": old_name, "new": item.name})
            return redirect("programmes:master_data", merchant_id)
    return render(
        request, "programmes/master_item.html", _context(request, "master_data", form=form, item=item, kind=kind)
    )


@require_POST
@field_role_required(PROGRAMME_ADMIN)
def team_role_remove(request: FieldRoleRequest, merchant_id: int, role_id: int) -> HttpResponse:
    """Take a person's role away; the team page shows the refusal (the last programme admin)."""
    field_role = get_object_or_404(
        FieldRole.objects.select_related("user"), pk=role_id, brand_owner_id=request.field_role.brand_owner_id
    )
    try:
        field_role_remove(actor=request.field_role, field_role=field_role)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("%(person)s no longer has a role.") % {"person": field_role.user.full_name or field_role.user}
        )
    return redirect("programmes:team", merchant_id)
