"""E-mails and SMS are written in the recipient's language, whoever causes them and in whatever
language the page that caused them was: merchants in the merchant's language (``Merchant.language``;
an invitee with an account in their own), consumers in their profile's language."""

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.services import staff_roles_sync
from adminpanel.invitations import invitation_send as staff_invitation_send
from cashback.providers.sms import FakeSmsClient
from merchants import services
from merchants.models import Membership, Merchant
from notifications.services import notification_send, preferences_update
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.merchants.factories import MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db(transaction=True)  # e-mails are queued after commit


@pytest.fixture
def administrator(db):
    staff_roles_sync()
    user = StaffUserFactory(mfa=True, language="en")
    user.groups.add(Group.objects.get(name="administrator"))
    return user


def test_a_review_decision_is_written_in_the_merchants_language_not_the_staff_members(client, administrator):
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW, display_name="Fjordkaffe", language="nb")
    english = MerchantFactory(status=Merchant.Status.PENDING_REVIEW, display_name="Harbour Tea", language="en")
    client.force_login(administrator)

    for each in (merchant, english):
        response = client.post(
            reverse("adminpanel:merchant_approve", args=[each.pk]), headers={"accept-language": "en"}
        )
        assert response.status_code == 302

    by_name = {message.subject: message for message in mail.outbox}
    norwegian = by_name["Fjordkaffe er godkjent på Cashback"]
    assert "Legg inn butikkene og lag det første tilbudet i bedriftsportalen:" in norwegian.body
    assert "Add your shops and create your first offer" in by_name["Harbour Tea is approved on Cashback"].body


def test_an_application_keeps_the_language_it_was_made_in(client):
    applicant = UserFactory(language="")
    merchant = MerchantFactory.build()  # only for valid field values

    with translation.override("nb"):
        applied = services.merchant_apply(
            applicant=applicant,
            legal_name="Fjord Coffee AS",
            display_name="Fjord Coffee",
            organisation_number="923 609 016",
            country="NO",
            category_code=merchant.category_code,
            contact_name="Dina",
            contact_email="dina@fjord.example",
        )
    assert applied.language == "nb"


def test_the_merchant_chooses_the_language_of_its_e_mails_on_the_settings_page(client):
    membership = MembershipFactory(role=Membership.Role.OWNER)
    merchant = membership.merchant
    client.force_login(membership.user)

    response = client.post(
        reverse("merchants:settings", args=[merchant.pk]),
        {
            "display_name": merchant.display_name,
            "contact_name": merchant.contact_name,
            "contact_email": merchant.contact_email,
            "contact_phone": "",
            "language": "nb",
        },
    )

    assert response.status_code == 302
    merchant.refresh_from_db()
    assert merchant.language == "nb" and merchant.email_language == "nb"
    refused = client.post(
        reverse("merchants:settings", args=[merchant.pk]),
        {"display_name": "X", "contact_name": "Y", "contact_email": "y@example.com", "language": "tlh"},
    )
    assert refused.status_code == 400
    merchant.refresh_from_db()
    assert merchant.language == "nb"


def test_an_invitation_is_written_in_the_invitees_own_language_else_the_merchants():
    merchant = MerchantFactory(display_name="Fjordkaffe", language="en")
    owner = MembershipFactory(merchant=merchant, role=Membership.Role.OWNER).user
    UserFactory(email="kari@example.com", language="nb")

    services.invitation_send(merchant=merchant, actor=owner, email="kari@example.com", role="analyst")
    services.invitation_send(merchant=merchant, actor=owner, email="new@example.com", role="analyst")

    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects["new@example.com"] == "You are invited to Fjordkaffe on Cashback"
    assert subjects["kari@example.com"] == "Du er invitert til Fjordkaffe på Cashback"


def test_a_staff_invitation_sms_and_e_mail_are_in_the_persons_language(administrator):
    FakeSmsClient.clear()
    by_sms = UserFactory(phone="+4790000001", language="nb")
    by_email = UserFactory(language="nb")

    staff_invitation_send(user=by_sms, channel="sms", actor=administrator)
    staff_invitation_send(user=by_email, channel="email", actor=administrator)

    [sms] = FakeSmsClient.outbox
    assert sms.body.startswith("Du har en Cashback-konto. Velg passordet ditt her")
    [email] = [message for message in mail.outbox if message.to == [by_email.email]]
    assert email.subject == "Cashback-kontoen din" and email.body.startswith("Du har en Cashback-konto.")


def test_a_consumers_e_mail_and_sms_are_in_their_profile_language_whatever_the_sender_speaks():
    FakeSmsClient.clear()
    person = UserFactory(language="nb", phone="+4791200999", phone_verified=True)
    preferences_update(user=person, choices={"reward_earned": {"email": True, "sms": True}})

    with translation.override("en"):  # a task or a page in English causes it
        notification_send(user=person, kind="reward_earned", context={"amount_minor": 4550, "currency": "NOK"})

    [email] = mail.outbox
    with translation.override("nb"):
        assert email.subject == gettext("You earned {amount} cashback").format(amount="45,50\u00a0kr")
    assert email.subject != "You earned NOK\u00a045.50 cashback"
    [sms] = FakeSmsClient.outbox
    assert "45,50\u00a0kr" in sms.body and "you earned" not in sms.body
