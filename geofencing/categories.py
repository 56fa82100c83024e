"""The shop categories a consumer filters nearby offers by, named groups of merchant category codes.

A merchant records its card-network category (MCC, four digits); people think in "groceries" or
"fashion". Each category here is a stable slug (the API's ``category`` value), a label, and the
MCCs it covers; a code in no group is "other". Unknown slugs are refused at the door (400).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    slug: str
    label: str
    codes: frozenset[str]


def _codes(*items: str) -> frozenset[str]:
    """MCCs given one by one ("5411") or as inclusive ranges ("5611-5699")."""
    codes: set[str] = set()
    for item in items:
        first, _, last = item.partition("-")
        codes.update(f"{code:04d}" for code in range(int(first), int(last or first) + 1))
    return frozenset(codes)


CATEGORIES: tuple[Category, ...] = (
    Category("groceries", "Groceries", _codes("5411", "5422", "5441", "5451", "5462", "5499")),
    Category("food-and-drink", "Cafés and restaurants", _codes("5811-5814")),
    Category("fashion", "Fashion and shoes", _codes("5611-5699", "5948")),
    Category("electronics", "Electronics", _codes("5045", "5722", "5731-5734", "5946")),
    Category("health-and-beauty", "Health and beauty", _codes("5912", "5975-5977", "7230", "7298")),
    Category("home-and-garden", "Home and garden", _codes("5200", "5211", "5231", "5251", "5261", "5712-5719")),
    Category("sports-and-leisure", "Sports and leisure", _codes("5940-5945", "7941", "7997")),
    Category("books-and-media", "Books and media", _codes("5735", "5942", "5994")),
    Category("fuel-and-transport", "Fuel and transport", _codes("4111", "4121", "5541", "5542")),
    Category("travel", "Travel and hotels", _codes("3000-3999", "4511", "4722", "7011")),
)
OTHER = Category("other", "Other shops", frozenset())

BY_SLUG: dict[str, Category] = {category.slug: category for category in (*CATEGORIES, OTHER)}
KNOWN_CODES: frozenset[str] = frozenset().union(*(category.codes for category in CATEGORIES))


def category_choices() -> list[tuple[str, str]]:
    return [(category.slug, category.label) for category in (*CATEGORIES, OTHER)]


def category_of(code: str) -> Category:
    """The category a merchant's MCC belongs to ("other" when no group covers it)."""
    for category in CATEGORIES:
        if code in category.codes:
            return category
    return OTHER
