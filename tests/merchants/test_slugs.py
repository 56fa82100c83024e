"""Merchants' slugs: made from the name at sign-up, unique, kept when the name changes; the migration fills old rows."""

import importlib

import pytest
from django.apps import apps

from merchants import services
from tests.accounts.factories import UserFactory
from tests.merchants.factories import MerchantFactory

pytestmark = pytest.mark.django_db

fill_migration = importlib.import_module("merchants.migrations.0009_fill_merchant_slugs")


def _apply(display_name: str, organisation_number: str):
    return services.merchant_apply(
        applicant=UserFactory(),
        legal_name=f"{display_name} AS",
        display_name=display_name,
        organisation_number=organisation_number,
        country="NO",
        category_code="5814",
        contact_name="Dina",
        contact_email="dina@shop.example",
    )


def test_sign_up_makes_the_slug_from_the_name_with_nordic_letters_spelt_out():
    assert _apply("Grønn Kurv & Bakeri", "923609016").slug == "gronn-kurv-bakeri"


def test_a_taken_slug_gets_a_number():
    first = _apply("Fjord Coffee", "923609016")
    second = _apply("Fjord  coffee", "914778271")
    third = _apply("FJORD COFFEE", "974760673")

    assert [first.slug, second.slug, third.slug] == ["fjord-coffee", "fjord-coffee-2", "fjord-coffee-3"]


def test_a_name_with_no_letters_still_gets_a_unique_slug():
    merchant = _apply("!!!", "923609016")

    assert merchant.slug.startswith("shop-")


def test_renaming_keeps_the_slug_so_shared_links_keep_working():
    merchant = _apply("Fjord Coffee", "923609016")
    owner = merchant.memberships.get().user

    services.merchant_update_settings(
        merchant=merchant,
        actor=owner,
        display_name="Fjord Coffee & Tea",
        contact_name="Dina",
        contact_email="dina@shop.example",
        contact_phone="",
    )

    merchant.refresh_from_db()
    assert merchant.slug == "fjord-coffee"


def test_merchants_made_outside_the_sign_up_get_unique_placeholders():
    slugs = {MerchantFactory().slug for _ in range(5)}

    assert len(slugs) == 5
    assert all(slug.startswith("shop-") for slug in slugs)


def test_the_data_migration_gives_every_existing_merchant_a_unique_slug_oldest_first():
    oldest = MerchantFactory(display_name="Bakeriet Ås")
    newer = MerchantFactory(display_name="Bakeriet Ås")
    blank = MerchantFactory(display_name="???")

    fill_migration.fill_slugs(apps, None)

    for merchant in (oldest, newer, blank):
        merchant.refresh_from_db()
    assert (oldest.slug, newer.slug, blank.slug) == ("bakeriet-as", "bakeriet-as-2", f"shop-{blank.pk}")
