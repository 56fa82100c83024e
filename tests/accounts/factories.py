import factory
from allauth.mfa.models import Authenticator
from django.conf import settings

from accounts.models import Consent, User

PASSWORD = "Correct-Horse-Battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    phone = None
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


class PhoneUserFactory(UserFactory):
    email = None
    phone = factory.Sequence(lambda n: f"+47912{n:05d}")
    phone_verified = True


class StaffUserFactory(UserFactory):
    """A staff member; ``StaffUserFactory(mfa=True)`` also gets a TOTP authenticator, which staff need
    before the StaffMfaRequiredMiddleware lets them use any page or API."""

    is_staff = True

    @factory.post_generation
    def mfa(self, create: bool, extracted: bool | None, **kwargs) -> None:
        if create and extracted:
            Authenticator.objects.create(user=self, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    user = factory.SubFactory(UserFactory)
    kind = Consent.Kind.TERMS
    granted = True
    version = settings.TERMS_VERSION


def luhn_number(n: int, prefix: str = "424242") -> str:
    """The n-th 16-digit test card number with ``prefix`` and a valid Luhn check digit."""
    from cashback.providers.card_network import luhn_valid

    body = f"{prefix}{n:09d}"
    return next(body + digit for digit in "0123456789" if luhn_valid(body + digit))


def enrolled_token(number: str = "4242424242424242", exp_month: int = 12, exp_year: int = 2030) -> str:
    """A token from the fake card network, as its enrolment page would give it."""
    from cashback.providers.card_network import FakeCardNetwork

    return FakeCardNetwork().enrol(number, exp_month, exp_year).token


def _lookup(token: str):
    from cashback.providers.card_network import FakeCardNetwork

    return FakeCardNetwork().card_lookup(token)


class CardFactory(factory.django.DjangoModelFactory):
    """A linked card. Its token is a real fake-network token (the n-th test number), so card_lookup knows it."""

    class Meta:
        model = "accounts.Card"

    user = factory.SubFactory(UserFactory)
    network_token = factory.Sequence(lambda n: enrolled_token(luhn_number(n)))
    first_six = factory.LazyAttribute(lambda card: _lookup(card.network_token).first_six)
    last_four = factory.LazyAttribute(lambda card: _lookup(card.network_token).last_four)
    exp_month = 12
    exp_year = 2030
    scheme = "visa"
