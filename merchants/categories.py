"""The shop categories people filter by, each a group of merchant category codes (MCC, ISO 18245).

Merchants give one MCC at sign-up; visitors think in "Cafés" or "Groceries", not in codes. A code that
no group lists is "Other shops". The slugs are part of public URLs (``/shops/?category=cafes``): keep them.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ShopCategory:
    slug: str
    label: str
    codes: frozenset[str]


SHOP_CATEGORIES: tuple[ShopCategory, ...] = (
    ShopCategory("cafes", "Cafés and restaurants", frozenset({"5811", "5812", "5813", "5814"})),
    ShopCategory("groceries", "Groceries and bakeries", frozenset({"5411", "5422", "5441", "5451", "5462", "5499"})),
    ShopCategory("fashion", "Clothes and shoes", frozenset({"5611", "5621", "5631", "5651", "5661", "5691", "5699"})),
    ShopCategory("sports", "Sports and outdoors", frozenset({"5655", "5940", "5941"})),
    ShopCategory("home", "Home and garden", frozenset({"5200", "5211", "5261", "5712", "5714", "5719"})),
    ShopCategory("books", "Books, toys and hobbies", frozenset({"5942", "5945", "5970", "5992"})),
    ShopCategory("health", "Health and beauty", frozenset({"5912", "5977", "7230", "7298"})),
    ShopCategory("electronics", "Electronics", frozenset({"5722", "5732", "5734"})),
    ShopCategory("travel", "Fuel and travel", frozenset({"4111", "4121", "5541", "5542", "7011"})),
)
OTHER = ShopCategory("other", "Other shops", frozenset())
_BY_SLUG = {category.slug: category for category in (*SHOP_CATEGORIES, OTHER)}
_BY_CODE = {code: category for category in SHOP_CATEGORIES for code in category.codes}


def shop_category_choices() -> list[tuple[str, str]]:
    return [(category.slug, category.label) for category in (*SHOP_CATEGORIES, OTHER)]


def shop_category_by_slug(slug: str) -> ShopCategory | None:
    return _BY_SLUG.get(slug)


def shop_category_of(category_code: str) -> ShopCategory:
    return _BY_CODE.get(category_code, OTHER)


def codes_in_some_category() -> frozenset[str]:
    """Every code a named group lists (what "Other shops" excludes)."""
    return frozenset(_BY_CODE)
