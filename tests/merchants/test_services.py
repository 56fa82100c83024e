"""Merchants services through their public functions: sign-up, review, team, shops, audit."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from merchants import services
from merchants.errors import (
    AlreadyMemberError,
    CurrencyMismatchError,
    DuplicateNetworkIdsError,
    DuplicateOrganisationNumberError,
    InvalidCoordinatesError,
    InvalidNetworkIdsError,
    InvalidOpeningHoursError,
    InvalidOrganisationNumberError,
    InvalidRoleError,
    InvalidStatusTransitionError,
    InvalidTimeZoneError,
    InvitationExpiredError,
    InvitationNotFoundError,
    InvitationRevokedError,
    InvitationUsedError,
    InvitationWrongEmailError,
    LastOwnerError,
    ReasonRequiredError,
)
from merchants.models import AuditEvent, Invitation, Location, Membership, Merchant
from merchants.selectors import merchant_can_earn
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.merchants.factories import LocationFactory, MembershipFactory, MerchantFactory
from wallet.models import AccountKind, LedgerAccount

pytestmark = pytest.mark.django_db

APPLICATION = {
    "legal_name": "Fjord Coffee AS",
    "display_name": "Fjord Coffee",
    "organisation_number": "923 609 016",
    "country": "NO",
    "category_code": "5814",
    "contact_name": "Dina",
    "contact_email": "dina@fjord.example",
}


def _actions(merchant: Merchant) -> list[str]:
    return list(AuditEvent.objects.filter(merchant=merchant).order_by("id").values_list("action", flat=True))


# --- Sign-up ----------------------------------------------------------------------------------


def test_applying_creates_a_pending_merchant_owned_by_the_applicant():
    applicant = UserFactory()

    merchant = services.merchant_apply(applicant=applicant, **APPLICATION)

    assert merchant.status == Merchant.Status.PENDING_REVIEW
    assert merchant.organisation_number == "923609016"
    assert merchant.currency == "NOK"  # from the country
    assert Membership.objects.get(merchant=merchant).user == applicant
    assert Membership.objects.get(merchant=merchant).role == Membership.Role.OWNER
    assert not merchant.is_active_for_rewards
    assert _actions(merchant) == ["merchant.applied"]


@pytest.mark.parametrize(
    ("country", "number", "currency", "expected"),
    [
        ("SE", "5560360793", "", "SEK"),
        ("DK", "24256790", "", "DKK"),
        ("FI", "0112038-9", "", "EUR"),
        ("NO", "923609016", "EUR", "EUR"),
    ],
)
def test_currency_defaults_from_the_country_or_may_be_euro(country, number, currency, expected):
    application = {**APPLICATION, "country": country, "organisation_number": number, "currency": currency}

    merchant = services.merchant_apply(applicant=UserFactory(), **application)

    assert merchant.currency == expected


def test_a_currency_of_another_country_is_refused_and_nothing_is_saved():
    with pytest.raises(CurrencyMismatchError) as caught:
        services.merchant_apply(applicant=UserFactory(), **{**APPLICATION, "currency": "SEK"})

    assert "currency" in caught.value.fields
    assert not Merchant.objects.exists()


def test_a_bad_organisation_number_is_refused_and_nothing_is_saved():
    with pytest.raises(InvalidOrganisationNumberError):
        services.merchant_apply(applicant=UserFactory(), **{**APPLICATION, "organisation_number": "923609017"})

    assert not Merchant.objects.exists()
    assert not Membership.objects.exists()


def test_an_organisation_number_is_registered_once_per_country():
    services.merchant_apply(applicant=UserFactory(), **APPLICATION)

    with pytest.raises(DuplicateOrganisationNumberError) as caught:
        services.merchant_apply(applicant=UserFactory(), **{**APPLICATION, "organisation_number": "923609016"})

    assert caught.value.code == "duplicate_organisation_number"
    assert Merchant.objects.count() == 1


# --- Review -----------------------------------------------------------------------------------


def _ledger_accounts(merchant: Merchant) -> list[tuple[str, str]]:
    return sorted(LedgerAccount.objects.filter(owner_key=f"merchant:{merchant.pk}").values_list("kind", "currency"))


def test_approving_opens_the_ledger_accounts_in_the_merchants_currency():
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW, currency="EUR")
    staff = StaffUserFactory(mfa=True)

    services.merchant_approve(merchant=merchant, actor=staff)

    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.APPROVED
    assert merchant.approved_at is not None
    assert merchant_can_earn(merchant)
    assert _ledger_accounts(merchant) == [
        (AccountKind.MERCHANT_FUNDING, "EUR"),
        (AccountKind.MERCHANT_RECEIVABLE, "EUR"),
    ]
    event = AuditEvent.objects.get(merchant=merchant, action="merchant.approved")
    assert event.actor == staff
    assert event.actor_label == staff.email


def test_approving_twice_is_a_clear_error_and_opens_no_second_set_of_accounts():
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW)
    staff = StaffUserFactory(mfa=True)
    services.merchant_approve(merchant=merchant, actor=staff)

    with pytest.raises(InvalidStatusTransitionError) as caught:
        services.merchant_approve(merchant=merchant, actor=staff)

    assert "approved" in caught.value.message
    assert len(_ledger_accounts(merchant)) == 2
    assert _actions(merchant) == ["merchant.approved"]


def test_rejecting_needs_a_reason():
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW)

    with pytest.raises(ReasonRequiredError):
        services.merchant_reject(merchant=merchant, actor=StaffUserFactory(), reason="   ")

    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.PENDING_REVIEW
    assert not AuditEvent.objects.exists()


def test_rejecting_records_the_reason_for_the_applicant():
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW)

    services.merchant_reject(merchant=merchant, actor=StaffUserFactory(), reason="Not a registered company")

    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.REJECTED
    assert merchant.status_reason == "Not a registered company"
    assert not LedgerAccount.objects.filter(owner_key=f"merchant:{merchant.pk}").exists()
    with pytest.raises(InvalidStatusTransitionError):
        services.merchant_approve(merchant=merchant, actor=StaffUserFactory())


def test_suspending_stops_rewards_and_reinstating_restores_them():
    merchant = MerchantFactory()
    staff = StaffUserFactory()

    services.merchant_suspend(merchant=merchant, actor=staff, reason="Chargebacks under investigation")
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.SUSPENDED
    assert not merchant_can_earn(merchant)

    services.merchant_reinstate(merchant=merchant, actor=staff, note="Resolved")
    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.APPROVED
    assert merchant.status_reason == ""
    assert merchant_can_earn(merchant)
    assert _actions(merchant) == ["merchant.suspended", "merchant.reinstated"]


@pytest.mark.parametrize(
    ("status", "operation"),
    [
        (Merchant.Status.PENDING_REVIEW, "suspend"),
        (Merchant.Status.REJECTED, "suspend"),
        (Merchant.Status.APPROVED, "reinstate"),
        (Merchant.Status.APPROVED, "reject"),
        (Merchant.Status.SUSPENDED, "approve"),
    ],
)
def test_status_changes_outside_the_life_cycle_are_refused(status, operation):
    merchant = MerchantFactory(status=status)
    arguments = {"merchant": merchant, "actor": StaffUserFactory()}
    if operation in ("suspend", "reject"):
        arguments["reason"] = "because"

    with pytest.raises(InvalidStatusTransitionError):
        getattr(services, f"merchant_{operation}")(**arguments)

    merchant.refresh_from_db()
    assert merchant.status == status


def test_suspending_needs_a_reason():
    merchant = MerchantFactory()

    with pytest.raises(ReasonRequiredError):
        services.merchant_suspend(merchant=merchant, actor=StaffUserFactory(), reason="")


def test_settings_changes_are_audited_with_what_changed():
    merchant = MerchantFactory(contact_name="Old Name")
    owner = MembershipFactory(merchant=merchant).user

    services.merchant_update_settings(
        merchant=merchant,
        actor=owner,
        display_name=merchant.display_name,
        contact_name="New Name",
        contact_email=merchant.contact_email,
        contact_phone=merchant.contact_phone,
    )

    event = AuditEvent.objects.get(action="merchant.settings_changed")
    assert event.details == {"changes": {"contact_name": {"from": "Old Name", "to": "New Name"}}}


def test_audit_events_are_append_only():
    event = services.audit_record(merchant=MerchantFactory(), actor=None, action="merchant.approved")

    event.action = "something else"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


# --- Team -------------------------------------------------------------------------------------


@pytest.fixture
def team():
    merchant = MerchantFactory()
    owner = MembershipFactory(merchant=merchant, role=Membership.Role.OWNER)
    return merchant, owner


def _invite(team, email: str, role: str) -> tuple[Invitation, str]:
    merchant, owner = team
    return services.invitation_send(merchant=merchant, actor=owner.user, email=email, role=role)


def test_an_invitation_is_emailed_after_commit_with_an_accept_link(
    team, mailoutbox, django_capture_on_commit_callbacks
):
    merchant, owner = team

    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = services.invitation_send(
            merchant=merchant, actor=owner.user, email="New.Person@Example.com", role="manager"
        )

    assert invitation.expires_at - invitation.created_at == timedelta(days=14)
    assert token not in invitation.token_hash  # only the hash is stored
    [email] = mailoutbox
    assert email.to == ["New.Person@Example.com"]
    assert f"/portal/invitations/{token}/" in email.body
    assert merchant.display_name in email.subject
    assert _actions(merchant) == ["invitation.sent"]


def test_no_email_is_sent_when_the_transaction_rolls_back(team, mailoutbox, django_capture_on_commit_callbacks):
    merchant, owner = team

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.invitation_send(merchant=merchant, actor=owner.user, email="a@example.com", role="analyst")

    assert len(callbacks) == 1
    assert mailoutbox == []


def test_accepting_an_invitation_joins_the_team_with_the_role(team):
    merchant, _owner = team
    invited = UserFactory(email="invited@example.com")
    _, token = _invite(team, "INVITED@example.com", "manager")

    membership = services.invitation_accept(token=token, user=invited)

    assert membership.merchant == merchant
    assert membership.role == Membership.Role.MANAGER
    assert Invitation.objects.get().accepted_by == invited
    assert _actions(merchant) == ["invitation.sent", "invitation.accepted"]


def test_an_invitation_cannot_be_used_twice(team):
    _merchant, _owner = team
    invited = UserFactory(email="invited@example.com")
    _, token = _invite(team, "invited@example.com", "analyst")
    services.invitation_accept(token=token, user=invited)

    with pytest.raises(InvitationUsedError):
        services.invitation_accept(token=token, user=invited)


def test_an_invitation_for_another_email_is_refused(team):
    merchant, _owner = team
    _, token = _invite(team, "invited@example.com", "analyst")

    with pytest.raises(InvitationWrongEmailError) as caught:
        services.invitation_accept(token=token, user=UserFactory(email="someone.else@example.com"))

    assert "invited@example.com" in caught.value.message
    assert merchant.memberships.count() == 1


def test_an_expired_invitation_is_refused(team):
    merchant, owner = team
    invited = UserFactory(email="invited@example.com")
    invitation, token = services.invitation_send(
        merchant=merchant, actor=owner.user, email="invited@example.com", role="analyst"
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(InvitationExpiredError):
        services.invitation_accept(token=token, user=invited)

    assert merchant.memberships.count() == 1


def test_an_unknown_token_is_refused():
    with pytest.raises(InvitationNotFoundError):
        services.invitation_accept(token="not-a-token", user=UserFactory())


def test_a_new_invitation_withdraws_the_earlier_one(team):
    _merchant, _owner = team
    invited = UserFactory(email="invited@example.com")
    _, first = _invite(team, "invited@example.com", "analyst")
    _, second = _invite(team, "invited@example.com", "manager")

    with pytest.raises(InvitationRevokedError):
        services.invitation_accept(token=first, user=invited)
    assert services.invitation_accept(token=second, user=invited).role == Membership.Role.MANAGER


def test_inviting_an_existing_member_is_refused(team):
    merchant, owner = team

    with pytest.raises(AlreadyMemberError) as caught:
        services.invitation_send(merchant=merchant, actor=owner.user, email=owner.user.email.upper(), role="analyst")

    assert "email" in caught.value.fields
    assert not Invitation.objects.exists()


def test_inviting_with_an_unknown_role_is_refused(team):
    merchant, owner = team

    with pytest.raises(InvalidRoleError):
        services.invitation_send(merchant=merchant, actor=owner.user, email="x@example.com", role="admin")

    assert not Invitation.objects.exists()


def test_the_last_owner_cannot_be_demoted(team):
    _, owner = team

    with pytest.raises(LastOwnerError):
        services.membership_change_role(membership=owner, actor=owner.user, role="manager")

    owner.refresh_from_db()
    assert owner.role == Membership.Role.OWNER
    assert not AuditEvent.objects.exists()


def test_the_last_owner_cannot_be_removed(team):
    _, owner = team

    with pytest.raises(LastOwnerError):
        services.membership_remove(membership=owner, actor=owner.user)

    assert Membership.objects.filter(pk=owner.pk).exists()


def test_an_owner_can_step_down_once_there_is_another_owner(team):
    merchant, owner = team
    second = MembershipFactory(merchant=merchant, role=Membership.Role.MANAGER)
    services.membership_change_role(membership=second, actor=owner.user, role="owner")

    services.membership_change_role(membership=owner, actor=owner.user, role="analyst")

    assert set(merchant.memberships.values_list("role", flat=True)) == {"owner", "analyst"}
    event = AuditEvent.objects.filter(action="member.role_changed").first()
    assert event.details["from"] == "owner"
    assert event.details["to"] == "analyst"


def test_removing_a_member_is_audited(team):
    merchant, owner = team
    analyst = MembershipFactory(merchant=merchant, role=Membership.Role.ANALYST)

    services.membership_remove(membership=analyst, actor=owner.user)

    assert not Membership.objects.filter(pk=analyst.pk).exists()
    event = AuditEvent.objects.get(action="member.removed")
    assert event.details["user"] == analyst.user_id
    assert event.actor == owner.user


def test_changing_to_an_unknown_role_is_refused(team):
    merchant, owner = team
    analyst = MembershipFactory(merchant=merchant, role=Membership.Role.ANALYST)

    with pytest.raises(InvalidRoleError):
        services.membership_change_role(membership=analyst, actor=owner.user, role="superuser")


# --- Locations --------------------------------------------------------------------------------

SHOP = {
    "name": "Oslo S",
    "street": "Jernbanetorget 1",
    "postcode": "0154",
    "city": "Oslo",
    "country": "NO",
    "time_zone": "Europe/Oslo",
    "opening_hours": {"mon": {"open": "07:00", "close": "19:00"}, "sun": {"closed": True}},
    "network_merchant_id": "NM1",
    "network_store_id": "S1",
}


def test_a_new_shop_is_geocoded_from_its_address(team):
    merchant, owner = team

    location = services.location_create(merchant=merchant, actor=owner.user, **SHOP)

    assert (location.latitude, location.longitude) == (Decimal("59.911500"), Decimal("10.750500"))
    assert location.opening_hours == {"mon": {"open": "07:00", "close": "19:00"}, "sun": {"closed": True}}
    event = AuditEvent.objects.get(action="location.created")
    assert event.details["position"] == "geocoded"


def test_a_shop_whose_address_is_not_found_is_saved_without_a_map_position(team):
    merchant, owner = team

    location = services.location_create(
        merchant=merchant, actor=owner.user, **{**SHOP, "postcode": "9999", "city": "Nowhere"}
    )

    assert location.pk is not None
    assert not location.has_map_position


def test_coordinates_given_by_hand_win_over_geocoding(team):
    merchant, owner = team

    location = services.location_create(
        merchant=merchant, actor=owner.user, **SHOP, latitude=Decimal("59.9"), longitude=Decimal("10.8")
    )

    assert (location.latitude, location.longitude) == (Decimal("59.900000"), Decimal("10.800000"))
    assert AuditEvent.objects.get(action="location.created").details["position"] == "manual"


def test_an_address_change_is_geocoded_again(team):
    merchant, owner = team
    location = services.location_create(merchant=merchant, actor=owner.user, **SHOP)

    services.location_update(
        location=location,
        actor=owner.user,
        **{**SHOP, "street": "Bryggen 1", "postcode": "5003", "city": "Bergen"},
        latitude=location.latitude,
        longitude=location.longitude,
    )

    location.refresh_from_db()
    assert (location.latitude, location.longitude) == (Decimal("60.393000"), Decimal("5.324000"))
    event = AuditEvent.objects.get(action="location.updated")
    assert set(event.details["changes"]) == {"street", "postcode", "city", "latitude", "longitude"}


def test_an_address_change_that_cannot_be_geocoded_clears_the_old_position(team):
    merchant, owner = team
    location = services.location_create(merchant=merchant, actor=owner.user, **SHOP)

    services.location_update(
        location=location,
        actor=owner.user,
        **{**SHOP, "postcode": "9999", "city": "Nowhere"},
        latitude=location.latitude,
        longitude=location.longitude,
    )

    location.refresh_from_db()
    assert not location.has_map_position


def test_moving_the_pin_by_hand_keeps_the_hand_placed_position(team):
    merchant, owner = team
    location = services.location_create(merchant=merchant, actor=owner.user, **SHOP)

    services.location_update(
        location=location, actor=owner.user, **SHOP, latitude=Decimal("59.91"), longitude=Decimal("10.75")
    )

    location.refresh_from_db()
    assert (location.latitude, location.longitude) == (Decimal("59.910000"), Decimal("10.750000"))


def test_saving_without_changes_writes_no_audit_event(team):
    merchant, owner = team
    location = services.location_create(merchant=merchant, actor=owner.user, **SHOP)

    services.location_update(
        location=location, actor=owner.user, **SHOP, latitude=location.latitude, longitude=location.longitude
    )

    assert not AuditEvent.objects.filter(action="location.updated").exists()


def test_network_ids_are_unique_across_the_platform(team):
    merchant, owner = team
    LocationFactory(network_merchant_id="NM1", network_store_id="S1")  # another merchant's shop

    with pytest.raises(DuplicateNetworkIdsError) as caught:
        services.location_create(merchant=merchant, actor=owner.user, **SHOP)

    assert "network_store_id" in caught.value.fields
    assert not merchant.locations.exists()
    assert not AuditEvent.objects.exists()


def test_the_same_store_id_under_another_network_merchant_id_is_fine(team):
    merchant, owner = team
    LocationFactory(network_merchant_id="NM2", network_store_id="S1")

    assert services.location_create(merchant=merchant, actor=owner.user, **SHOP).pk


def test_updating_a_shop_to_anothers_network_ids_is_refused(team):
    merchant, owner = team
    location = services.location_create(merchant=merchant, actor=owner.user, **SHOP)
    LocationFactory(network_merchant_id="NM9", network_store_id="S9")

    with pytest.raises(DuplicateNetworkIdsError):
        services.location_update(
            location=location,
            actor=owner.user,
            **{**SHOP, "network_merchant_id": "NM9", "network_store_id": "S9"},
            latitude=None,
            longitude=None,
        )

    location.refresh_from_db()
    assert location.network_store_id == "S1"


def test_network_ids_come_in_pairs(team):
    merchant, owner = team

    with pytest.raises(InvalidNetworkIdsError):
        services.location_create(merchant=merchant, actor=owner.user, **{**SHOP, "network_store_id": ""})


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"time_zone": "Mars/Olympus"}, InvalidTimeZoneError),
        ({"opening_hours": {"mon": {"open": "18:00", "close": "09:00"}}}, InvalidOpeningHoursError),
        ({"latitude": Decimal("59.9")}, InvalidCoordinatesError),
        ({"latitude": Decimal("91"), "longitude": Decimal("10")}, InvalidCoordinatesError),
    ],
)
def test_bad_shop_input_is_refused_and_nothing_is_saved(team, changes, error):
    merchant, owner = team

    with pytest.raises(error):
        services.location_create(merchant=merchant, actor=owner.user, **{**SHOP, **changes})

    assert not Location.objects.exists()


def test_deleting_a_shop_is_audited(team):
    merchant, owner = team
    location = services.location_create(merchant=merchant, actor=owner.user, **SHOP)

    services.location_delete(location=location, actor=owner.user)

    assert not Location.objects.exists()
    assert AuditEvent.objects.get(action="location.deleted").details["name"] == "Oslo S"


@pytest.mark.parametrize(
    ("status", "operation", "arguments", "subject"),
    [
        (Merchant.Status.PENDING_REVIEW, "approve", {}, "is approved"),
        (Merchant.Status.PENDING_REVIEW, "reject", {"reason": "Dissolved company"}, "Your Cashback application"),
        (Merchant.Status.APPROVED, "suspend", {"reason": "Fraud suspected"}, "is suspended"),
        (Merchant.Status.SUSPENDED, "reinstate", {}, "is active again"),
    ],
)
def test_review_decisions_are_emailed_to_the_contact_after_commit(
    mailoutbox, django_capture_on_commit_callbacks, status, operation, arguments, subject
):
    merchant = MerchantFactory(status=status, contact_email="boss@shop.example")

    with django_capture_on_commit_callbacks(execute=True):
        getattr(services, f"merchant_{operation}")(merchant=merchant, actor=StaffUserFactory(), **arguments)

    [email] = mailoutbox
    assert email.to == ["boss@shop.example"]
    assert subject in email.subject
    assert arguments.get("reason", "") in email.body


def test_a_refused_decision_sends_no_email(mailoutbox, django_capture_on_commit_callbacks):
    merchant = MerchantFactory()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidStatusTransitionError):
        services.merchant_approve(merchant=merchant, actor=StaffUserFactory())

    assert mailoutbox == []
