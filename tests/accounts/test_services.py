import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal

from accounts import selectors, services
from accounts.errors import ConsentVersionMissingError
from accounts.models import Consent
from tests.accounts.factories import ConsentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_consent_record_appends_history_and_the_newest_is_in_force():
    user = UserFactory()

    first = services.consent_record(user=user, kind=Consent.Kind.MARKETING, granted=True, version="2026-11")
    second = services.consent_record(user=user, kind=Consent.Kind.MARKETING, granted=False, version="2026-11")

    assert first.created_at <= second.created_at
    assert Consent.objects.filter(user=user).count() == 2
    assert selectors.consent_in_force(user=user, kind=Consent.Kind.MARKETING) == second


def test_consent_record_without_version_is_refused():
    with pytest.raises(ConsentVersionMissingError) as error:
        services.consent_record(user=UserFactory(), kind=Consent.Kind.TERMS, granted=True, version="")

    assert error.value.code == "consent_version_missing"
    assert Consent.objects.count() == 0


def test_marketing_consent_set_withdraws_and_keeps_history():
    user = UserFactory()
    ConsentFactory(user=user, kind=Consent.Kind.MARKETING, granted=True, version=settings.MARKETING_CONSENT_VERSION)

    withdrawn = services.marketing_consent_set(user=user, granted=False)
    unchanged = services.marketing_consent_set(user=user, granted=False)

    assert withdrawn is not None and withdrawn.granted is False
    assert unchanged is None
    assert list(user.consents.order_by("id").values_list("granted", flat=True)) == [True, False]


def test_consents_in_force_lists_the_newest_decision_per_kind():
    user = UserFactory()
    ConsentFactory(user=user, kind=Consent.Kind.TERMS)
    ConsentFactory(user=user, kind=Consent.Kind.MARKETING, granted=False)
    newest = services.consent_record(user=user, kind=Consent.Kind.MARKETING, granted=True, version="v2")

    in_force = selectors.consents_in_force(user=user)

    assert [(c.kind, c.granted) for c in in_force] == [("terms", True), ("marketing", True)]
    assert in_force[1] == newest


def test_profile_update_changes_only_the_given_fields():
    user = UserFactory(full_name="Ada Lovelace", city="Oslo")

    services.profile_update(user=user, birth_year=1990, city="")

    user.refresh_from_db()
    assert (user.full_name, user.birth_year, user.city) == ("Ada Lovelace", 1990, "")


def test_staff_roles_sync_creates_the_roles_with_their_permissions():
    Group.objects.all().delete()

    counts = services.staff_roles_sync()

    groups = {group.name: group for group in Group.objects.prefetch_related("permissions__content_type")}
    assert set(groups) == {"administrator", "finance", "support", "marketing"}
    assert groups["administrator"].permissions.count() == Permission.objects.count()

    def codes(role: str) -> set[str]:
        return {f"{p.content_type.app_label}.{p.codename}" for p in groups[role].permissions.all()}

    assert codes("support") >= {
        "accounts.view_user",
        "accounts.view_consent",
        "cashback.view_webhookevent",
        "cashback.view_factdelivery",  # the facts page (issue 12): support reads it
        "accounts.view_auditrecord",  # closed accounts (issue 13)
        "wallet.view_ledgeraccount",  # a person's support page (issue 16)
        "campaigns.view_purchase",
        "monitoring.view_fraudflag",  # transaction monitoring (issue 16): support looks and holds
        "monitoring.hold_fraudflag",
    }
    # Support reads; the one thing it writes is a new account for a person (issue 16): never money.
    writes = {code for code in codes("support") if ".view_" not in code}
    assert writes == {"accounts.add_user", "monitoring.hold_fraudflag"}
    assert "accounts.view_user" in codes("marketing")
    assert "accounts.change_user" not in codes("marketing")
    assert {"accounts.view_user", "accounts.change_user", "accounts.view_consent"} <= codes("finance")
    assert {"charity.change_charity", "cashback.change_webhookevent"} <= codes("finance")
    assert not {"merchants.change_merchant", "cashback.delete_webhookevent"} & codes("finance")
    assert all(count == len(codes(role)) for role, count in counts.items())


def test_staff_roles_sync_is_idempotent_and_repairs_drift():
    services.staff_roles_sync()
    support = Group.objects.get(name="support")
    support.permissions.add(Permission.objects.get(codename="delete_user"))
    before = {g.name: set(g.permissions.values_list("pk", flat=True)) for g in Group.objects.all()}

    services.staff_roles_sync()
    services.staff_roles_sync()

    after = {g.name: set(g.permissions.values_list("pk", flat=True)) for g in Group.objects.all()}
    assert Group.objects.filter(name="support").count() == 1
    assert Permission.objects.get(codename="delete_user").pk not in after["support"]
    assert {k: v for k, v in before.items() if k != "support"} == {k: v for k, v in after.items() if k != "support"}


def test_staff_roles_exist_after_migrations():
    assert set(Group.objects.values_list("name", flat=True)) >= {"administrator", "finance", "support", "marketing"}


def test_every_migrate_resyncs_the_roles_so_later_apps_are_covered():
    # given a database whose roles predate the wallet's permissions
    Group.objects.all().delete()

    # when `migrate` finishes (it ends by sending post_migrate for every app)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    # then the roles exist again, finance with every wallet permission
    finance = Group.objects.get(name="finance")
    wallet_permissions = Permission.objects.filter(content_type__app_label="wallet")
    assert wallet_permissions.exists()
    assert set(wallet_permissions) <= set(finance.permissions.all())


def test_sync_staff_roles_command(capsys):
    Group.objects.all().delete()

    call_command("sync_staff_roles")

    assert Group.objects.count() == 4
    support = Group.objects.get(name="support").permissions.count()
    assert f"support: {support} permissions" in capsys.readouterr().out


def test_staff_role_grants_permissions_to_a_member():
    services.staff_roles_sync()
    agent = UserFactory(is_staff=True)
    agent.groups.add(Group.objects.get(name="support"))

    assert agent.has_perm("accounts.view_consent")
    assert not agent.has_perm("accounts.change_user")
