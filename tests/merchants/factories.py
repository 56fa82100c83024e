"""Factories for merchants, their people and shops. Other apps' tests import these."""

import factory
from django.utils import timezone

from merchants.models import Location, Membership, Merchant, MerchantApiKey
from merchants.services import API_KEY_PREFIX, API_KEY_SHOWN_CHARACTERS, api_key_hash
from tests.accounts.factories import UserFactory


def _valid_norwegian_org_number(n: int) -> str:
    """The n-th valid Norwegian organisation number (8 digits + mod-11 check digit) from 810 000 000 on."""
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    base = 81_000_000 + n
    while True:
        digits = [int(ch) for ch in f"{base:08d}"]
        remainder = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11
        check = 0 if remainder == 0 else 11 - remainder
        if check != 10:
            return f"{base:08d}{check}"
        base += 1_000_000  # skip a number without a valid check digit, staying unique per n


class MerchantFactory(factory.django.DjangoModelFactory):
    """An approved Norwegian merchant (``status=Merchant.Status.PENDING_REVIEW`` etc. for others)."""

    class Meta:
        model = Merchant

    legal_name = factory.Sequence(lambda n: f"Merchant {n} AS")
    display_name = factory.Sequence(lambda n: f"Merchant {n}")
    organisation_number = factory.Sequence(_valid_norwegian_org_number)
    country = "NO"
    currency = "NOK"
    category_code = "5812"
    contact_name = factory.Faker("name")
    contact_email = factory.Sequence(lambda n: f"contact{n}@merchant.example")
    contact_phone = "+4722000000"
    status = Merchant.Status.APPROVED
    status_reason = factory.LazyAttribute(
        lambda m: "Reason given by staff" if m.status in (Merchant.Status.REJECTED, Merchant.Status.SUSPENDED) else ""
    )
    approved_at = factory.LazyAttribute(
        lambda m: timezone.now() if m.status in (Merchant.Status.APPROVED, Merchant.Status.SUSPENDED) else None
    )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    merchant = factory.SubFactory(MerchantFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.OWNER


class LocationFactory(factory.django.DjangoModelFactory):
    """A shop in Oslo with a map position and card-network ids."""

    class Meta:
        model = Location

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Shop {n}")
    street = factory.Sequence(lambda n: f"Karl Johans gate {n + 1}")
    postcode = "0154"
    city = "Oslo"
    country = "NO"
    latitude = factory.Faker("pydecimal", left_digits=2, right_digits=6, min_value=59.90, max_value=59.95)
    longitude = factory.Faker("pydecimal", left_digits=2, right_digits=6, min_value=10.70, max_value=10.78)
    time_zone = "Europe/Oslo"
    opening_hours = factory.LazyFunction(dict)
    network_merchant_id = factory.Sequence(lambda n: f"NM{n:06d}")
    network_store_id = factory.Sequence(lambda n: f"ST{n:04d}")


class MerchantApiKeyFactory(factory.django.DjangoModelFactory):
    """An active partner API key. Its plaintext is on the instance as ``.plaintext`` (tests only: the
    platform never keeps it). ``api_key_headers(key)`` gives the request headers."""

    class Meta:
        model = MerchantApiKey

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Web shop {n}")
    plaintext = factory.Sequence(lambda n: f"{API_KEY_PREFIX}test{n:06d}{'x' * 34}")
    prefix = factory.LazyAttribute(lambda key: key.plaintext[:API_KEY_SHOWN_CHARACTERS])
    secret_hash = factory.LazyAttribute(lambda key: api_key_hash(key.plaintext))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        plaintext = kwargs.pop("plaintext", None)
        instance = super()._create(model_class, *args, **kwargs)
        instance.plaintext = plaintext
        return instance


def api_key_headers(key: MerchantApiKey, **extra: str) -> dict[str, str]:
    """Headers for the Django test client: the key's bearer token plus ``extra`` (e.g. Idempotency-Key)."""
    return {
        "HTTP_AUTHORIZATION": f"Bearer {key.plaintext}",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in extra.items()},
    }
