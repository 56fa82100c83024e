"""The public charity pages, the wallet's giving pages, the receipt PDF and the staff pages, through HTTP."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import StaffAuditEntry
from charity import selectors
from charity.models import AutoDonateSetting, Charity, Disbursement
from tests.charity.factories import CharityFactory, UserFactory, available_money, charity_reward
from wallet.models import JournalTransaction

pytestmark = pytest.mark.django_db


def _clean(content: str) -> None:
    assert "style=" not in content and "<script>" not in content


def test_the_public_list_and_page_show_total_impact(client):
    desks = CharityFactory(name="Skolebenken", costs={"NOK": 80_000})
    CharityFactory(name="Closed charity", is_active=False)
    charity_reward(charity=desks, user=UserFactory(), amount=200_000, offer_id=1, purchase_id=1)

    listing = client.get(reverse("charity:list")).content.decode()
    page = client.get(reverse("charity:detail", args=[desks.slug])).content.decode()

    assert "Skolebenken" in listing and "Closed charity" not in listing
    assert "NOK\u00a02,000.00" in listing
    assert "school desks" in page and "50% of the next" in page
    assert "Your impact" not in page  # anonymous visitor
    _clean(listing)
    _clean(page)


def test_empty_states(client):
    assert "No partner charities yet" in client.get(reverse("charity:list")).content.decode()
    client.force_login(UserFactory())
    giving = client.get(reverse("charity:giving")).content.decode()
    assert "No impact yet" in giving and "No donations yet" in giving and "Receipts appear here" in giving
    charity = CharityFactory()
    donate = client.get(reverse("charity:donate", args=[charity.slug])).content.decode()
    assert "Nothing to give yet" in donate


def test_an_unknown_charity_page_is_404(client):
    assert client.get(reverse("charity:detail", args=["nope"])).status_code == 404


def test_wallet_pages_need_a_login(client):
    charity = CharityFactory()
    for url in (
        reverse("charity:giving"),
        reverse("charity:donate", args=[charity.slug]),
        reverse("charity:receipt", args=[2026]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_donating_through_the_form_and_a_double_submit_gives_once(client):
    user, charity = UserFactory(), CharityFactory(name="Desks")
    available_money(user, 10_000)
    client.force_login(user)
    form_page = client.get(reverse("charity:donate", args=[charity.slug]))
    key = form_page.context["form"].initial["idempotency_key"]
    data = {"how_much": "amount", "amount": "40", "currency": "NOK", "idempotency_key": key}

    first = client.post(reverse("charity:donate", args=[charity.slug]), data)
    second = client.post(reverse("charity:donate", args=[charity.slug]), data)

    assert first.status_code == 302 and second.status_code == 302
    assert selectors.consumer_available_minor(user=user, currency="NOK") == 6_000
    giving = client.get(reverse("charity:giving")).content.decode()
    assert "Thank you! You gave NOK\u00a040.00 to Desks." in giving
    assert "NOK\u00a040.00" in giving and "One-off" in giving
    _clean(giving)


def test_donating_all_through_the_form(client):
    user, charity = UserFactory(), CharityFactory()
    available_money(user, 1_234)
    client.force_login(user)

    client.post(
        reverse("charity:donate", args=[charity.slug]),
        {"how_much": "all", "amount": "", "currency": "NOK", "idempotency_key": "form-all"},
    )

    assert selectors.consumer_available_minor(user=user, currency="NOK") == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "100.01"}, "You have 100.00 NOK available to donate."),
        ({"amount": "1.001"}, "decimals"),
        ({"amount": ""}, "Give an amount"),
        ({"amount": "-3"}, "Amounts are positive"),
    ],
)
def test_bad_form_input_shows_the_error_and_changes_nothing(client, data, message):
    user, charity = UserFactory(), CharityFactory()
    available_money(user, 10_000)
    client.force_login(user)
    before = JournalTransaction.objects.count()

    response = client.post(
        reverse("charity:donate", args=[charity.slug]),
        {"how_much": "amount", "currency": "NOK", "idempotency_key": "bad", **data},
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert JournalTransaction.objects.count() == before


def test_an_inactive_charity_cannot_be_donated_to_from_the_page(client):
    user, charity = UserFactory(), CharityFactory(is_active=False)
    available_money(user, 10_000)
    client.force_login(user)

    response = client.post(
        reverse("charity:donate", args=[charity.slug]),
        {"how_much": "amount", "amount": "1", "currency": "NOK", "idempotency_key": "x"},
    )

    assert response.status_code == 302
    assert not JournalTransaction.objects.filter(kind="donation").exists()


def test_the_auto_donate_form(client):
    user, charity = UserFactory(), CharityFactory(name="Books")
    client.force_login(user)

    ok = client.post(reverse("charity:auto_donate"), {"charity": charity.pk, "share_percent": "15"}, follow=True)
    bad = client.post(reverse("charity:auto_donate"), {"charity": charity.pk, "share_percent": "101"})
    none = client.post(reverse("charity:auto_donate"), {"charity": "", "share_percent": "10"})

    assert "15% of every future reward will go to Books." in ok.content.decode()
    assert bad.status_code == 400 and none.status_code == 400
    assert "Choose a charity." in none.content.decode()
    setting = AutoDonateSetting.objects.get(user=user)
    assert (setting.charity, setting.share_percent) == (charity, 15)


def test_the_receipt_pdf_lists_the_years_donations(client):
    pypdf = pytest.importorskip("pypdf")
    user = UserFactory(full_name="Dina Donor") if hasattr(UserFactory._meta.model, "full_name") else UserFactory()
    desks, books = CharityFactory(name="Skolebenken"), CharityFactory(name="Lesehesten")
    available_money(user, 100_000)
    for key, charity, amount in (("a", desks, 12_500), ("b", desks, 2_500), ("c", books, 10_000)):
        from charity.services import donation_make

        donation_make(user=user, charity_id=charity.pk, amount_minor=amount, currency="NOK", idempotency_key=key)
    charity_reward(charity=books, user=user, amount=99_900, offer_id=1, purchase_id=1)  # not the consumer's gift
    client.force_login(user)
    year = timezone.localdate().year

    response = client.get(reverse("charity:receipt", args=[year]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="donation-receipt-{year}.pdf"' in response["Content-Disposition"]
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    assert f"Donation receipt {year}" in text
    assert "Skolebenken" in text and desks.organisation_number in text
    text = " ".join(text.split())
    assert "NOK 150.00" in text and "NOK 100.00" in text
    assert "Total NOK" in text and "NOK 250.00" in text
    assert "999.00" not in text
    giving = client.get(reverse("charity:giving")).content.decode()
    assert f"Receipt {year}" in giving


def test_a_receipt_for_a_year_without_donations_says_so(client):
    pypdf = pytest.importorskip("pypdf")
    client.force_login(UserFactory())

    response = client.get(reverse("charity:receipt", args=[2020]))

    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    assert "no donations" in text
    assert client.get(reverse("charity:receipt", args=[1999])).status_code == 404


# --- staff ------------------------------------------------------------------------------------


VALID = {
    "name": "Skolebenken",
    "slug": "",
    "country": "NO",
    "organisation_number": "923 609 016",
    "cause": "Education",
    "description": "Desks.",
    "website": "https://skolebenken.example",
    "logo_path": "charity/logos/skolebenken.svg",
    "impact_unit": "school desk",
    "impact_unit_plural": "school desks",
    "stripe_account_id": "acct_1Skolebenken",
    "is_active": "on",
    "cost_NOK": "800",
    "cost_EUR": "70.00",
}


@pytest.fixture
def staff_client(client, staff_with_role):
    def make(role):
        client.force_login(staff_with_role(role))
        return client

    return make


@pytest.fixture
def staff_with_role(db):
    from django.contrib.auth.models import Group

    from accounts.services import staff_roles_sync
    from tests.accounts.factories import StaffUserFactory

    staff_roles_sync()

    def make(role):
        user = StaffUserFactory(mfa=True)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


def test_an_administrator_adds_and_edits_a_charity(staff_client):
    client = staff_client("administrator")

    response = client.post(reverse("charity:staff_create"), VALID)

    charity = Charity.objects.get()
    assert response.status_code == 302
    assert (charity.slug, charity.organisation_number) == ("skolebenken", "923609016")
    assert {c.currency: c.unit_cost_minor for c in charity.impact_costs.all()} == {"NOK": 80_000, "EUR": 7_000}
    edit = client.post(reverse("charity:staff_detail", args=[charity.pk]), {**VALID, "cost_EUR": "", "is_active": ""})
    charity.refresh_from_db()
    assert edit.status_code == 302
    assert charity.is_active is False
    assert [c.currency for c in charity.impact_costs.all()] == ["NOK"]
    page = client.get(reverse("charity:staff_list")).content.decode()
    assert "Skolebenken" in page and "Inactive" in page
    _clean(page)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"organisation_number": "923609017"}, "not a valid organisation number"),
        ({"stripe_account_id": "not-an-account"}, "acct_"),
        ({"cost_NOK": "800.001"}, "decimals"),
        ({"impact_unit": ""}, "required"),
        ({"website": "not a url"}, "valid URL"),
    ],
)
def test_bad_charity_details_are_shown_and_nothing_is_saved(staff_client, change, message):
    client = staff_client("administrator")

    response = client.post(reverse("charity:staff_create"), {**VALID, **change})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Charity.objects.exists()


def test_a_duplicate_organisation_number_is_refused(staff_client):
    client = staff_client("administrator")
    client.post(reverse("charity:staff_create"), VALID)

    response = client.post(reverse("charity:staff_create"), {**VALID, "name": "Another", "slug": "another"})

    assert response.status_code == 400
    assert Charity.objects.count() == 1


def test_finance_manages_charities_and_disbursements(staff_client):
    charity = CharityFactory()
    client = staff_client("finance")

    assert client.get(reverse("charity:staff_list")).status_code == 200
    assert client.get(reverse("charity:staff_disbursements")).status_code == 200
    assert client.get(reverse("charity:staff_detail", args=[charity.pk])).status_code == 200
    assert client.get(reverse("charity:staff_create")).status_code == 200
    response = client.post(reverse("charity:staff_create"), VALID)
    assert response.status_code == 302
    assert Charity.objects.filter(name=VALID["name"]).exists()


def test_support_reads_the_charities_but_cannot_add_one(staff_client):
    client = staff_client("support")  # a person's donations on their support page lead here (issue 16)

    assert client.get(reverse("charity:staff_list")).status_code == 200
    assert client.get(reverse("charity:staff_create")).status_code == 403


@pytest.mark.parametrize("role", ["marketing", None])
def test_other_staff_and_consumers_are_kept_out(staff_client, client, role):
    client = staff_client(role)

    assert client.get(reverse("charity:staff_list")).status_code == 403
    client.force_login(UserFactory())
    assert client.get(reverse("charity:staff_list")).status_code == 403


def test_staff_send_a_processing_disbursement_again(staff_client, settings):
    from cashback.providers.stripe_gateway import FakeStripeGateway
    from charity import services

    settings.STRIPE_PROVIDER = "fake"
    FakeStripeGateway.reset()
    charity = CharityFactory()
    charity_reward(charity=charity, user=UserFactory(), amount=5_000, offer_id=1, purchase_id=1)
    disbursement = services.disbursement_open(charity_id=charity.pk, currency="NOK", period=timezone.localdate())
    client = staff_client("administrator")
    listing = client.get(reverse("charity:staff_disbursements")).content.decode()
    assert "Send now" in listing and "Processing" in listing

    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("charity:staff_disbursement_send", args=[disbursement.pk]))

    assert response.status_code == 302
    disbursement.refresh_from_db()
    assert disbursement.status == Disbursement.Status.PAID
    assert len(FakeStripeGateway.calls("transfer_create")) == 1
    FakeStripeGateway.reset()


def test_list_and_giving_pages_do_not_grow_queries_with_rows(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = UserFactory()
    available_money(user, 100_000)
    client.force_login(user)

    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    def add_rows(n):
        from charity.services import donation_make

        for _ in range(n):
            charity = CharityFactory()
            charity_reward(charity=charity, user=user, amount=1_000, offer_id=charity.pk, purchase_id=charity.pk)
            donation_make(
                user=user, charity_id=charity.pk, amount_minor=100, currency="NOK", idempotency_key=f"q{charity.pk}"
            )

    add_rows(1)
    few = (queries(reverse("charity:list")), queries(reverse("charity:giving")))
    add_rows(5)
    many = (queries(reverse("charity:list")), queries(reverse("charity:giving")))

    assert many == few


# --- The staff audit log (F-X7) ----------------------------------------------------------------------------


def test_adding_and_editing_a_charity_are_written_to_the_staff_audit_log(staff_client):
    client = staff_client("finance")

    client.post(reverse("charity:staff_create"), {**VALID, "impact_unit": ""})  # a bad form
    client.post(reverse("charity:staff_create"), VALID)
    client.post(reverse("charity:staff_create"), {**VALID, "name": "Another", "slug": "another"})  # a duplicate
    charity = Charity.objects.get()
    client.post(reverse("charity:staff_detail", args=[charity.pk]), {**VALID, "website": "not a url"})  # bad form
    client.post(reverse("charity:staff_detail", args=[charity.pk]), {**VALID, "is_active": ""})

    created, edited = StaffAuditEntry.objects.order_by("pk")
    assert (created.action, created.target_type, created.target_id) == (
        "charity.create",
        "charity.charity",
        str(charity.pk),
    )
    assert created.before is None and created.after["slug"] == "skolebenken"
    assert created.actor_role == "finance"
    assert (edited.action, edited.target_id) == ("charity.edit", str(charity.pk))
    assert (edited.before, edited.after) == ({"is_active": "True"}, {"is_active": "False"})


def test_sending_a_disbursement_is_written_to_the_staff_audit_log(
    staff_client, settings, django_capture_on_commit_callbacks
):
    from cashback.providers.stripe_gateway import FakeStripeGateway
    from charity import services

    settings.STRIPE_PROVIDER = "fake"
    FakeStripeGateway.reset()
    charity = CharityFactory()
    charity_reward(charity=charity, user=UserFactory(), amount=5_000, offer_id=1, purchase_id=1)
    disbursement = services.disbursement_open(charity_id=charity.pk, currency="NOK", period=timezone.localdate())
    client = staff_client("administrator")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("charity:staff_disbursement_send", args=[disbursement.pk]))
    client.post(reverse("charity:staff_disbursement_send", args=[disbursement.pk]))  # refused: paid already
    FakeStripeGateway.reset()

    entry = StaffAuditEntry.objects.get()
    assert (entry.action, entry.target_type, entry.target_id) == (
        "disbursement.send",
        "charity.disbursement",
        str(disbursement.pk),
    )
