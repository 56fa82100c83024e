"""The brand owner's catalogue pages in the portal (``/portal/<merchant>/catalogue/``): marketing manages
items and uploads or generates voucher codes; finance activates or voids them. Thin: the role is checked
by ``field_role_required`` (no role: 404; another role: 403) and again by every service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from cashback.errors import DomainError, form_error_from
from programmes import catalogue, catalogue_selectors, vouchers
from programmes.catalogue_errors import VoucherFileError
from programmes.catalogue_forms import GenerateForm, ItemForm, VoucherFileForm
from programmes.catalogue_models import PriceKind, RewardItem, VoucherBatch, VoucherCode
from programmes.decorators import FieldRoleRequest, field_role_required
from programmes.models import FieldRoleKind, Programme
from wallet.money import minor_to_decimal_string

MARKETING = FieldRoleKind.MARKETING_ADMIN
FINANCE = FieldRoleKind.FINANCE_ADMIN


def _context(request: FieldRoleRequest, **extra: Any) -> dict[str, Any]:
    role = request.field_role
    return {
        "role": role,
        "merchant": role.brand_owner.merchant,
        "section": "catalogue",
        "can_oversee": True,
        "can_upload": role.role == FINANCE,
        "is_marketing": role.role == MARKETING,
        "is_finance": role.role == FINANCE,
        **extra,
    }


def _item_of(request: FieldRoleRequest, item_id: int) -> RewardItem:
    return get_object_or_404(RewardItem, pk=item_id, brand_owner_id=request.field_role.brand_owner_id)


@field_role_required(MARKETING, FINANCE)
def items(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    owned = catalogue_selectors.owner_items(brand_owner=request.field_role.brand_owner)
    page = Paginator(owned, 25).get_page(request.GET.get("page"))
    return render(request, "programmes/catalogue/admin_items.html", _context(request, page_obj=page))


def _item_form(request: FieldRoleRequest, item: RewardItem | None) -> ItemForm:
    brand_owner = request.field_role.brand_owner
    initial: dict[str, Any] = {}
    if item is not None:
        price = str(item.price) if item.is_points else minor_to_decimal_string(item.price, item.currency)
        initial = {
            field: getattr(item, field)
            for field in ("name", "kind", "description", "price_kind", "stock", "valid_from", "valid_until")
        }
        initial.update(
            price=price,
            code_source=item.code_source,
            segment=item.segment,
            programme=item.programme_id,
            min_tier=item.min_tier_id,
            is_active=item.is_active,
        )
    return ItemForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        programmes=Programme.objects.filter(brand_owner=brand_owner).order_by("name"),
        currency=brand_owner.currency,
    )


def _item_save(request: FieldRoleRequest, form: ItemForm, item: RewardItem | None) -> RewardItem | None:
    data = form.cleaned_data
    spec = catalogue.ItemSpec(
        kind=data["kind"],
        name=data["name"],
        description=data["description"],
        price_kind=data["price_kind"],
        price=data["price"],
        stock=data["stock"],
        valid_from=data["valid_from"],
        valid_until=data["valid_until"],
        code_source=data["code_source"],
        segment=data["segment"],
        programme=data["programme"],
        min_tier=data["min_tier"],
        is_active=data["is_active"],
    )
    try:
        if item is None:
            saved = catalogue.reward_item_create(role=request.field_role, spec=spec)
        else:
            saved = catalogue.reward_item_update(role=request.field_role, item=item, spec=spec)
    except DomainError as error:
        form_error_from(form, error)
        return None
    if data.get("image"):
        saved.image = data["image"]
        saved.save(update_fields=["image", "updated_at"])
    return saved


@field_role_required(MARKETING)
def item_create(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    form = _item_form(request, None)
    if request.method == "POST" and form.is_valid():
        saved = _item_save(request, form, None)
        if saved is not None:
            messages.success(request, gettext("%(name)s is in the catalogue.") % {"name": saved.name})
            return redirect("catalogue_admin:codes", merchant_id, saved.pk)
    return render(request, "programmes/catalogue/admin_item_form.html", _context(request, form=form, item=None))


@field_role_required(MARKETING)
def item_edit(request: FieldRoleRequest, merchant_id: int, item_id: int) -> HttpResponse:
    item = _item_of(request, item_id)
    form = _item_form(request, item)
    if request.method == "POST" and form.is_valid():
        saved = _item_save(request, form, item)
        if saved is not None:
            messages.success(request, gettext("%(name)s is saved.") % {"name": saved.name})
            return redirect("catalogue_admin:items", merchant_id)
    return render(request, "programmes/catalogue/admin_item_form.html", _context(request, form=form, item=item))


def _codes_page(
    request: FieldRoleRequest,
    item: RewardItem,
    *,
    upload_form: VoucherFileForm | None = None,
    generate_form: GenerateForm | None = None,
    row_errors: list[tuple[int, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    codes = Paginator(catalogue_selectors.item_codes(item=item), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "programmes/catalogue/admin_codes.html",
        _context(
            request,
            item=item,
            batches=catalogue_selectors.item_batches(item=item)[:20],
            page_obj=codes,
            upload_form=upload_form or VoucherFileForm(),
            generate_form=generate_form or GenerateForm(),
            row_errors=row_errors or [],
            points_price=item.price_kind == PriceKind.POINTS,
        ),
        status=status,
    )


@field_role_required(MARKETING, FINANCE)
def item_codes(request: FieldRoleRequest, merchant_id: int, item_id: int) -> HttpResponse:
    return _codes_page(request, _item_of(request, item_id))


@require_POST
@field_role_required(MARKETING)
def codes_upload(request: FieldRoleRequest, merchant_id: int, item_id: int) -> HttpResponse:
    item = _item_of(request, item_id)
    form = VoucherFileForm(request.POST, request.FILES)
    row_errors: list[tuple[int, str]] = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = vouchers.voucher_batch_upload(
                role=request.field_role, item=item, filename=upload.name or "codes.csv", content=upload.read()
            )
        except VoucherFileError as error:
            row_errors = error.rows
            form_error_from(form, error)
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(
                request,
                gettext("%(count)s codes stored; finance activates them.") % {"count": batch.code_count},
            )
            return redirect("catalogue_admin:codes", merchant_id, item.pk)
    return _codes_page(request, item, upload_form=form, row_errors=row_errors, status=400)


@require_POST
@field_role_required(MARKETING)
def codes_generate(request: FieldRoleRequest, merchant_id: int, item_id: int) -> HttpResponse:
    item = _item_of(request, item_id)
    form = GenerateForm(request.POST)
    if form.is_valid():
        try:
            batch = vouchers.voucher_batch_generate(
                role=request.field_role, item=item, count=form.cleaned_data["count"]
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(
                request,
                gettext("%(count)s codes generated; finance activates them.") % {"count": batch.code_count},
            )
            return redirect("catalogue_admin:codes", merchant_id, item.pk)
    return _codes_page(request, item, generate_form=form, status=400)


def _batch_of(request: FieldRoleRequest, batch_id: int) -> VoucherBatch:
    return get_object_or_404(
        VoucherBatch.objects.select_related("item"),
        pk=batch_id,
        item__brand_owner_id=request.field_role.brand_owner_id,
    )


@require_POST
@field_role_required(FINANCE)
def batch_activate(request: FieldRoleRequest, merchant_id: int, batch_id: int) -> HttpResponse:
    batch = _batch_of(request, batch_id)
    try:
        vouchers.voucher_batch_activate(role=request.field_role, batch=batch)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("The batch is active: its codes can be issued."))
    return redirect("catalogue_admin:codes", merchant_id, batch.item_id)


@require_POST
@field_role_required(FINANCE)
def batch_void(request: FieldRoleRequest, merchant_id: int, batch_id: int) -> HttpResponse:
    batch = _batch_of(request, batch_id)
    voided = vouchers.voucher_batch_void(role=request.field_role, batch=batch)
    messages.success(request, gettext("%(count)s codes voided.") % {"count": voided})
    return redirect("catalogue_admin:codes", merchant_id, batch.item_id)


@require_POST
@field_role_required(FINANCE)
def code_void(request: FieldRoleRequest, merchant_id: int, code_id: int) -> HttpResponse:
    code = get_object_or_404(VoucherCode, pk=code_id, brand_owner_id=request.field_role.brand_owner_id)
    try:
        vouchers.voucher_code_void(role=request.field_role, code=code)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("Code %(code)s voided.") % {"code": code.masked})
    return redirect("catalogue_admin:codes", merchant_id, code.item_id)
