"""Partner sign-up and portal pages through the test client: what people see and what gets saved."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from merchants import services
from merchants.models import AuditEvent, Invitation, Location, Membership, Merchant
from tests.accounts.factories import UserFactory
from tests.merchants.factories import LocationFactory, MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db

APPLICATION = {
    "legal_name": "Fjord Coffee AS",
    "display_name": "Fjord Coffee",
    "country": "NO",
    "organisation_number": "923 609 016",
    "currency": "",
    "category_code": "5814",
    "contact_name": "Dina",
    "contact_email": "dina@fjord.example",
    "contact_phone": "",
}


def _errors(response, field: str) -> list[str]:
    return response.context["form"].errors.get(field, [])


# --- Partner sign-up --------------------------------------------------------------------------


def test_the_partner_page_is_public_and_links_to_the_application(client):
    response = client.get(reverse("partners:index"))

    assert response.status_code == 200
    assert reverse("partners:apply") in response.content.decode()


def test_applying_needs_a_login(client):
    response = client.get(reverse("partners:apply"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_an_application_makes_the_applicant_owner_and_shows_its_status(client):
    applicant = UserFactory()
    client.force_login(applicant)

    response = client.post(reverse("partners:apply"), APPLICATION, follow=True)

    merchant = Merchant.objects.get()
    assert response.redirect_chain[-1][0] == reverse("partners:application", kwargs={"merchant_id": merchant.pk})
    assert "Pending review" in response.content.decode()
    assert merchant.memberships.get().user == applicant
    assert merchant.currency == "NOK"
    assert merchant.organisation_number == "923609016"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"organisation_number": "923609017"}, "organisation_number", "not a valid organisation number for Norway"),
        ({"country": "SE"}, "organisation_number", "not a valid organisation number for Sweden"),
        ({"country": "DE"}, "country", "Select a valid choice"),
        ({"currency": "SEK"}, "currency", "billed in NOK or EUR"),
        ({"currency": "GBP"}, "currency", "Select a valid choice"),
        ({"category_code": "58"}, "category_code", "four digits"),
        ({"contact_email": "not-an-email"}, "contact_email", "valid email"),
        ({"legal_name": ""}, "legal_name", "required"),
    ],
)
def test_bad_applications_show_the_error_on_the_field_and_save_nothing(client, changes, field, message):
    client.force_login(UserFactory())

    response = client.post(reverse("partners:apply"), {**APPLICATION, **changes})

    assert response.status_code == 400
    assert any(message in error for error in _errors(response, field)), _errors(response, field)
    assert not Merchant.objects.exists()
    assert not Membership.objects.exists()


def test_a_duplicate_organisation_number_is_a_field_error(client):
    MerchantFactory(country="NO", organisation_number="923609016")
    client.force_login(UserFactory())

    response = client.post(reverse("partners:apply"), APPLICATION)

    assert response.status_code == 400
    assert "already registered" in _errors(response, "organisation_number")[0]
    assert Merchant.objects.count() == 1


def test_the_application_page_shows_a_rejection_reason(client):
    merchant = MerchantFactory(status=Merchant.Status.REJECTED, status_reason="Organisation number is dissolved")
    owner = MembershipFactory(merchant=merchant).user
    client.force_login(owner)

    response = client.get(reverse("partners:application", kwargs={"merchant_id": merchant.pk}))

    assert "Organisation number is dissolved" in response.content.decode()


def test_someone_elses_application_is_404(client):
    merchant = MerchantFactory(status=Merchant.Status.PENDING_REVIEW)
    client.force_login(UserFactory())

    assert client.get(reverse("partners:application", kwargs={"merchant_id": merchant.pk})).status_code == 404


# --- Portal: banners, dashboard, navigation ----------------------------------------------------


@pytest.mark.parametrize(
    ("status", "banner"),
    [
        (Merchant.Status.PENDING_REVIEW, "being reviewed"),
        (Merchant.Status.REJECTED, "was not approved"),
        (Merchant.Status.SUSPENDED, "is suspended"),
    ],
)
def test_merchants_that_are_not_approved_can_open_the_portal_with_a_banner(client, status, banner):
    membership = MembershipFactory(merchant=MerchantFactory(status=status))
    client.force_login(membership.user)

    response = client.get(reverse("merchants:dashboard", kwargs={"merchant_id": membership.merchant_id}))

    assert response.status_code == 200
    assert banner in response.content.decode()


def test_members_see_the_merchant_portal_in_the_navigation(client):
    membership = MembershipFactory()
    client.force_login(membership.user)

    labels = [item.label for item in client.get(reverse("home")).context["nav_items"]]

    assert "Merchant portal" in labels


def test_people_without_memberships_do_not_see_the_merchant_portal(client):
    client.force_login(UserFactory())

    labels = [item.label for item in client.get(reverse("home")).context["nav_items"]]

    assert "Merchant portal" not in labels


# --- Portal: locations ------------------------------------------------------------------------

SHOP = {
    "name": "Oslo S",
    "street": "Jernbanetorget 1",
    "postcode": "0154",
    "city": "Oslo",
    "country": "NO",
    "latitude": "",
    "longitude": "",
    "time_zone": "Europe/Oslo",
    "network_merchant_id": "NM1",
    "network_store_id": "S1",
    "mon_open": "08:00",
    "mon_close": "17:00",
    "sun_closed": "on",
}


@pytest.fixture
def owner(client):
    membership = MembershipFactory(role=Membership.Role.OWNER)
    client.force_login(membership.user)
    return membership


def _portal(name: str, membership: Membership, **kwargs) -> str:
    return reverse(f"merchants:{name}", kwargs={"merchant_id": membership.merchant_id, **kwargs})


def test_adding_a_shop_geocodes_it_and_stores_opening_hours(client, owner):
    response = client.post(_portal("location_create", owner), SHOP)

    assert response.status_code == 302
    location = Location.objects.get()
    assert location.merchant_id == owner.merchant_id
    assert location.latitude == Decimal("59.911500")
    assert location.opening_hours == {"mon": {"open": "08:00", "close": "17:00"}, "sun": {"closed": True}}
    assert AuditEvent.objects.filter(action="location.created", actor=owner.user).exists()


def test_a_shop_that_cannot_be_geocoded_is_saved_and_flagged(client, owner):
    response = client.post(
        _portal("location_create", owner), {**SHOP, "postcode": "9999", "city": "Atlantis"}, follow=True
    )

    html = response.content.decode()
    assert "could not find its address on the map" in html
    assert "No map position" in html
    assert not Location.objects.get().has_map_position


def test_coordinates_typed_or_clicked_on_the_map_are_kept(client, owner):
    client.post(_portal("location_create", owner), {**SHOP, "latitude": "59.95", "longitude": "10.71"})

    location = Location.objects.get()
    assert (location.latitude, location.longitude) == (Decimal("59.950000"), Decimal("10.710000"))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"mon_open": "17:00", "mon_close": "08:00"}, "mon_close", "closing time must be after opening time"),
        ({"mon_open": "08:00", "mon_close": ""}, "mon_close", "give both times"),
        ({"sun_closed": "on", "sun_open": "10:00", "sun_close": "12:00"}, "sun_closed", "not both"),
        ({"time_zone": "Europe/Gotham"}, "time_zone", "Unknown time zone"),
        ({"latitude": "59.9", "longitude": ""}, "longitude", "Give both latitude and longitude"),
        ({"latitude": "95", "longitude": "10"}, "latitude", "less than or equal to 90"),
        ({"network_store_id": ""}, "network_store_id", "or neither"),
        ({"country": "XX"}, "country", "Select a valid choice"),
    ],
)
def test_bad_shop_input_shows_a_field_error_and_saves_nothing(client, owner, changes, field, message):
    response = client.post(_portal("location_create", owner), {**SHOP, **changes})

    assert response.status_code == 400
    errors = _errors(response, field)
    assert any(message in error for error in errors), response.context["form"].errors
    assert not Location.objects.exists()
    assert not AuditEvent.objects.exists()


def test_network_ids_used_by_another_shop_are_a_field_error(client, owner):
    LocationFactory(network_merchant_id="NM1", network_store_id="S1")

    response = client.post(_portal("location_create", owner), SHOP)

    assert response.status_code == 400
    assert "already uses this card-network" in _errors(response, "network_store_id")[0]
    assert Location.objects.count() == 1


def test_editing_a_shop_shows_its_values_and_saves_changes(client, owner):
    location = LocationFactory(merchant=owner.merchant, opening_hours={"mon": {"open": "09:00", "close": "17:00"}})
    edit_url = _portal("location_edit", owner, location_id=location.pk)

    form = client.get(edit_url).context["form"]
    assert form.initial["mon_open"] == "09:00"

    data = {**SHOP, "name": "Renamed", "latitude": str(location.latitude), "longitude": str(location.longitude)}
    response = client.post(edit_url, data)

    assert response.status_code == 302
    location.refresh_from_db()
    assert location.name == "Renamed"
    assert AuditEvent.objects.get(action="location.updated").details["changes"]["name"]["to"] == "Renamed"


def test_deleting_a_shop_asks_first_then_deletes(client, owner):
    location = LocationFactory(merchant=owner.merchant)
    url = _portal("location_delete", owner, location_id=location.pk)

    assert client.get(url).status_code == 200
    assert Location.objects.exists()
    assert client.post(url).status_code == 302
    assert not Location.objects.exists()


def test_the_location_form_has_a_map_without_inline_scripts_or_styles(client, owner, settings):
    html = client.get(_portal("location_create", owner)).content.decode()

    assert "data-location-map" in html
    assert f'data-tile-url="{settings.MAP_TILE_ORIGIN}/{{z}}/{{x}}/{{y}}.png"' in html
    assert "leaflet/leaflet.js" in html
    assert "js/location-map.js" in html
    assert "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert 'name="latitude"' in html  # works without JavaScript as plain inputs


def test_the_shop_list_flags_shops_without_a_map_position_and_filters_them(client, owner):
    LocationFactory(merchant=owner.merchant, name="Placed shop")
    LocationFactory(merchant=owner.merchant, name="Lost shop", latitude=None, longitude=None)

    everything = client.get(_portal("locations", owner)).content.decode()
    missing = client.get(_portal("locations", owner) + "?map_position=missing").content.decode()

    assert "Placed shop" in everything
    assert "Lost shop" in everything
    assert everything.count("No map position") >= 1
    assert "Lost shop" in missing
    assert "Placed shop" not in missing


def test_the_shop_list_is_paginated(client, owner):
    LocationFactory.create_batch(27, merchant=owner.merchant)

    first = client.get(_portal("locations", owner))
    second = client.get(_portal("locations", owner) + "?page=2")

    assert len(first.context["page_obj"].object_list) == 25
    assert len(second.context["page_obj"].object_list) == 2


def test_an_empty_shop_list_invites_to_add_one(client, owner):
    html = client.get(_portal("locations", owner)).content.decode()

    assert "No shops yet" in html
    assert _portal("location_create", owner) in html


def test_analysts_see_shops_read_only(client):
    analyst = MembershipFactory(role=Membership.Role.ANALYST)
    LocationFactory(merchant=analyst.merchant, name="Visible shop")
    client.force_login(analyst.user)

    html = client.get(_portal("locations", analyst)).content.decode()

    assert "Visible shop" in html
    assert "Add a shop" not in html
    assert "/edit/" not in html


# --- Portal: team and invitations ---------------------------------------------------------------


def test_owners_invite_by_email(client, owner, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_portal("team_invite", owner), {"email": "new@example.com", "role": "manager"})

    assert response.status_code == 302
    assert Invitation.objects.get().role == "manager"
    assert mailoutbox[0].to == ["new@example.com"]
    assert "new@example.com" in client.get(_portal("team", owner)).content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "MEMBER@example.com", "role": "analyst"}, "email", "already a member"),
        ({"email": "x@example.com", "role": "admin"}, "role", "Select a valid choice"),
        ({"email": "not-an-email", "role": "analyst"}, "email", "valid email"),
    ],
)
def test_bad_invitations_are_field_errors(client, owner, data, field, message):
    MembershipFactory(merchant=owner.merchant, user=UserFactory(email="member@example.com"))

    response = client.post(_portal("team_invite", owner), data)

    assert response.status_code == 400
    assert any(message in error for error in _errors(response, field))
    assert not Invitation.objects.exists()


def _invitation(owner: Membership, email: str = "invited@example.com") -> tuple[Invitation, str]:
    return services.invitation_send(merchant=owner.merchant, actor=owner.user, email=email, role="manager")


def test_accepting_an_invitation_through_the_link(client, owner):
    _, token = _invitation(owner)
    invited = UserFactory(email="Invited@Example.com")
    client.force_login(invited)
    url = reverse("merchants:invitation_accept", kwargs={"token": token})

    page = client.get(url)
    response = client.post(url)

    assert "Accept and join" in page.content.decode()
    assert response.status_code == 302
    assert response.url == _portal("dashboard", owner)
    assert Membership.objects.get(user=invited).role == "manager"


def test_the_invitation_link_needs_a_login(client, owner):
    _, token = _invitation(owner)
    client.logout()

    response = client.get(reverse("merchants:invitation_accept", kwargs={"token": token}))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("problem", ["wrong_email", "expired", "used", "revoked", "unknown"])
def test_invitation_problems_are_explained(client, owner, problem):
    invitation, token = _invitation(owner)
    user = UserFactory(email="invited@example.com" if problem != "wrong_email" else "other@example.com")
    if problem == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(days=1))
    elif problem == "used":
        services.invitation_accept(token=token, user=user)
        user = UserFactory(email="later@example.com")
    elif problem == "revoked":
        services.invitation_revoke(invitation=invitation, actor=owner.user)
    elif problem == "unknown":
        token = "no-such-token"
    client.force_login(user)
    url = reverse("merchants:invitation_accept", kwargs={"token": token})
    memberships_before = Membership.objects.count()

    shown = client.get(url).content.decode()
    response = client.post(url)

    expected = {
        "wrong_email": "sent to invited@example.com",
        "expired": "has expired",
        "used": "already been used",
        "revoked": "was withdrawn",
        "unknown": "not valid",
    }[problem]
    assert expected in shown
    assert expected in response.content.decode()
    assert 400 <= response.status_code < 500
    assert Membership.objects.count() == memberships_before


def test_the_last_owner_cannot_be_demoted_through_the_page(client, owner):
    response = client.post(_portal("member_edit", owner, membership_id=owner.pk), {"role": "analyst"})

    assert response.status_code == 400
    assert "at least one owner" in _errors(response, "role")[0]
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_the_last_owner_cannot_be_removed_through_the_page(client, owner):
    response = client.post(_portal("member_remove", owner, membership_id=owner.pk))

    assert response.status_code == 409
    assert "at least one owner" in response.content.decode()
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_owners_change_roles_and_remove_members(client, owner):
    member = MembershipFactory(merchant=owner.merchant, role="analyst")

    client.post(_portal("member_edit", owner, membership_id=member.pk), {"role": "manager"})
    member.refresh_from_db()
    assert member.role == "manager"

    client.post(_portal("member_remove", owner, membership_id=member.pk))
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_owners_withdraw_invitations(client, owner):
    invitation, _ = _invitation(owner)

    response = client.post(_portal("invitation_revoke", owner, invitation_id=invitation.pk))

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_withdrawing_needs_a_post(client, owner):
    invitation, _ = _invitation(owner)

    assert client.get(_portal("invitation_revoke", owner, invitation_id=invitation.pk)).status_code == 405


def test_everyone_in_the_team_sees_it_but_only_owners_get_the_controls(client):
    analyst = MembershipFactory(role="analyst")
    MembershipFactory(merchant=analyst.merchant, role="owner", user=UserFactory(email="boss@example.com"))
    client.force_login(analyst.user)

    html = client.get(_portal("team", analyst)).content.decode()

    assert "boss@<wbr>example.<wbr>com" in html
    assert "Invite someone" not in html
    assert "Change role" not in html


# --- Portal: activity and settings ------------------------------------------------------------


def test_the_activity_page_shows_who_changed_what(client, owner):
    services.location_create(
        merchant=owner.merchant,
        actor=owner.user,
        name="Audited shop",
        street="Jernbanetorget 1",
        postcode="0154",
        city="Oslo",
        country="NO",
    )

    html = client.get(_portal("activity", owner)).content.decode()

    assert "Added a shop" in html
    assert "Audited shop" in html
    assert owner.user.email.split("@")[0] in html


def test_the_activity_page_of_another_merchant_is_404(client, owner):
    other = MerchantFactory()
    services.audit_record(merchant=other, actor=None, action="merchant.approved")

    assert client.get(reverse("merchants:activity", kwargs={"merchant_id": other.pk})).status_code == 404


def test_managers_change_contact_details(client):
    manager = MembershipFactory(role="manager")
    client.force_login(manager.user)
    data = {
        "display_name": "New Name",
        "contact_name": "Kari",
        "contact_email": "kari@example.com",
        "contact_phone": "",
    }

    response = client.post(_portal("settings", manager), data)

    assert response.status_code == 302
    manager.merchant.refresh_from_db()
    assert manager.merchant.display_name == "New Name"
    assert AuditEvent.objects.get().action == "merchant.settings_changed"


def test_bad_contact_details_are_field_errors(client, owner):
    data = {"display_name": "", "contact_name": "Kari", "contact_email": "nope", "contact_phone": ""}

    response = client.post(_portal("settings", owner), data)

    assert response.status_code == 400
    assert _errors(response, "display_name")
    assert _errors(response, "contact_email")
    assert not AuditEvent.objects.exists()


# --- Queries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["locations", "team", "activity", "dashboard"])
def test_portal_lists_do_not_grow_queries_with_rows(client, owner, django_assert_max_num_queries, name):
    LocationFactory.create_batch(3, merchant=owner.merchant)
    MembershipFactory.create_batch(3, merchant=owner.merchant, role="analyst")
    for _ in range(3):
        services.audit_record(merchant=owner.merchant, actor=owner.user, action="merchant.settings_changed")
    client.get(_portal(name, owner))  # warm up (session, content types)
    with CaptureQueriesContext(connection) as few:
        client.get(_portal(name, owner))

    LocationFactory.create_batch(10, merchant=owner.merchant)
    MembershipFactory.create_batch(10, merchant=owner.merchant, role="analyst")
    for _ in range(10):
        services.audit_record(merchant=owner.merchant, actor=owner.user, action="merchant.settings_changed")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(_portal(name, owner))


def test_a_currency_mismatch_is_shown_together_with_the_other_errors(client):
    client.force_login(UserFactory())

    response = client.post(
        reverse("partners:apply"), {**APPLICATION, "currency": "SEK", "organisation_number": "923609017"}
    )

    assert _errors(response, "currency")
    assert _errors(response, "organisation_number")
    assert "Please correct the marked fields" in response.content.decode()
