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
