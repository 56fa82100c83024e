"""The programme admin's master data: regions, brands and products of the brand owner. Names (and SKUs)
are unique per brand owner; a duplicate is refused with the field named, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from programmes.errors import DuplicateMasterDataError, InvalidProgrammeError
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
