"""The programme admin's master data: regions, brands and products of the brand owner. Names (and SKUs)
are unique per brand owner; a duplicate is refused with the field named, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext, ngettext

from programmes.errors import DuplicateMasterDataError, InvalidProgrammeError, MasterDataInUseError
from programmes.models import Brand, FieldRole, FieldRoleKind, Product, Region
from programmes.services import _require_role

T = TypeVar("T")


def _name(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidProgrammeError(fields={field: [gettext("This field is required.")]})
    return value


def _unique(create: Callable[[], T], field: str) -> T:
    try:
        with transaction.atomic():
            return create()
    except IntegrityError as error:
        raise DuplicateMasterDataError(fields={field: [str(DuplicateMasterDataError.default_message)]}) from error


@transaction.atomic
def region_add(*, role: FieldRole, name: str) -> Region:
    _require_role(role, FieldRoleKind.PROGRAMME_ADMIN)
    name = _name(name, "name")
    return _unique(lambda: Region.objects.create(brand_owner_id=role.brand_owner_id, name=name), "name")


@transaction.atomic
def brand_add(*, role: FieldRole, name: str) -> Brand:
    _require_role(role, FieldRoleKind.PROGRAMME_ADMIN)
    name = _name(name, "name")
    return _unique(lambda: Brand.objects.create(brand_owner_id=role.brand_owner_id, name=name), "name")


@transaction.atomic
def product_add(*, role: FieldRole, brand: Brand, sku: str, name: str) -> Product:
    _require_role(role, FieldRoleKind.PROGRAMME_ADMIN)
    if brand.brand_owner_id != role.brand_owner_id:
        raise InvalidProgrammeError(fields={"brand": [gettext("Choose one of your brands.")]})
    sku, name = _name(sku, "sku"), _name(name, "name")
    return _unique(
        lambda: Product.objects.create(brand_owner_id=role.brand_owner_id, brand=brand, sku=sku, name=name), "sku"
    )


MasterItem = Region | Brand | Product


def _own(role: FieldRole, item: MasterItem) -> None:
    _require_role(role, FieldRoleKind.PROGRAMME_ADMIN)
    if item.brand_owner_id != role.brand_owner_id:
        raise InvalidProgrammeError(fields={"name": [gettext("Choose one of your own.")]})


@transaction.atomic
def master_item_rename(*, role: FieldRole, item: MasterItem, name: str) -> MasterItem:
    """A new name for a region, brand or product (what uses it keeps using it). Unique as when added."""
    _own(role, item)
    item.name = _name(name, "name")
    _unique(lambda: item.save(update_fields=["name", "updated_at"]), "name")
    return item


def _uses(item: MasterItem) -> list[str]:
    """What still uses the item, as "3 customers", for the refusal; empty when nothing does."""
    found: list[tuple[int, str]] = []
    if isinstance(item, Region):
        n = item.customers.count()
        found.append((n, ngettext("%(n)d customer", "%(n)d customers", n)))
        n = item.budgets.count()
        found.append((n, ngettext("%(n)d programme budget", "%(n)d programme budgets", n)))
        n = item.field_roles.count()
        found.append((n, ngettext("%(n)d person's role", "%(n)d people's roles", n)))
    elif isinstance(item, Brand):
        n = item.products.count()
        found.append((n, ngettext("%(n)d product", "%(n)d products", n)))
        n = item.programmes.count()
        found.append((n, ngettext("%(n)d programme", "%(n)d programmes", n)))
    else:
        n = item.programmes.count()
        found.append((n, ngettext("%(n)d programme", "%(n)d programmes", n)))
        n = item.sales_lines.count() + item.purchase_sales.count()
        found.append((n, ngettext("%(n)d sales line", "%(n)d sales lines", n)))
    return [label % {"n": n} for n, label in found if n]


@transaction.atomic
def master_item_remove(*, role: FieldRole, item: MasterItem) -> None:
    """Remove a region, brand or product that nothing uses; otherwise ``MasterDataInUseError`` naming what
    does, and nothing is removed. The row is locked first, so a concurrent use waits or fails on PROTECT."""
    _own(role, item)
    type(item).objects.select_for_update().filter(pk=item.pk).first()
    uses = _uses(item)
    if uses:
        message = gettext("%(name)s cannot be removed: %(uses)s still use it.") % {
            "name": item.name,
            "uses": ", ".join(uses),
        }
        raise MasterDataInUseError(fields={"name": [message]})
    try:
        with transaction.atomic():
            item.delete()
    except ProtectedError as error:
        raise MasterDataInUseError() from error
