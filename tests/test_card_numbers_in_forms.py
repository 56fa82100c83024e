"""Every form of our apps refuses a full card number in every field as a form error (cashback/forms.py).

The forms are found, not listed: every module of every app of this repository is imported and every
Form/ModelForm subclass defined in it is checked, so a new form that does not extend GuardedForm or
GuardedModelForm (or the mixin) fails here. A form whose constructor needs arguments names them in
``CONSTRUCTOR_KWARGS``; a new one that does fails with that hint.
"""

import importlib
import inspect
import pkgutil
from datetime import date
from pathlib import Path

import pytest
from allauth.account.forms import SignupForm
from allauth.core import context
from django import forms
from django.apps import apps
from django.test import RequestFactory

from cashback.card_guard import CARD_NUMBER_MESSAGE, is_password_field
from cashback.forms import CardNumberGuardMixin
from programmes.models import Brand, BusinessCustomer, Programme, Region
from tests.accounts.factories import UserFactory
from tests.merchants.factories import MerchantFactory

ROOT = Path(__file__).resolve().parent.parent
OUR_APPS = [config for config in apps.get_app_configs() if Path(config.path).parent == ROOT]
CARD = "4242 4242 4242 4242"

CONSTRUCTOR_KWARGS = {
    "campaigns.forms.OfferForm": lambda: {"merchant": MerchantFactory()},
    "campaigns.forms.ChallengeForm": lambda: {"merchant": MerchantFactory()},
    "insights.report_forms.ReportFilterForm": lambda: {"merchant": MerchantFactory()},
    "insights.forms.RangeForm": lambda: {"today": date(2026, 12, 5)},
    "insights.report_forms.ExportForm": lambda: {"merchant": MerchantFactory()},
    "referrals.forms.ProgramForm": lambda: {},
    "programmes.catalogue_forms.ItemForm": lambda: {"programmes": Programme.objects.none(), "currency": "NOK"},
    "accounts.privacy_forms.ErasureForm": lambda: {"user": UserFactory()},
    "notifications.forms.PreferencesForm": lambda: {"preferences": _preferences()},
    "programmes.forms.BudgetForm": lambda: {"currency": "NOK"},
    "programmes.action_forms.ActionRuleForm": lambda: {"currency": "NOK"},
    "programmes.action_forms.ProductForm": lambda: {"brands": Brand.objects.none()},
    "programmes.forms.ContractForm": lambda: {
        "customers": BusinessCustomer.objects.none(),
        "programmes": Programme.objects.none(),
    },
    "programmes.forms.CustomerForm": lambda: {"regions": Region.objects.none()},
    "programmes.forms.FieldRoleForm": lambda: {"regions": Region.objects.none()},
    "programmes.forms.ProgrammeForm": lambda: {"brands": Brand.objects.none(), "regions": [], "currency": "NOK"},
}


def _preferences():
    from notifications.selectors import preferences_of

    return preferences_of(user=UserFactory())


def _modules_of_our_apps():
    for config in OUR_APPS:
        package = importlib.import_module(config.name)
        yield package
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{config.name}."):
            if ".migrations" in info.name or ".tests" in info.name:
                continue
            yield importlib.import_module(info.name)


def _form_classes() -> list[type[forms.BaseForm]]:
    found = {}
    for module in _modules_of_our_apps():
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, forms.BaseForm) and value.__module__ == module.__name__:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    for base in ("cashback.forms.GuardedForm", "cashback.forms.GuardedModelForm"):
        del found[base]  # the bases themselves have no fields
    found["allauth.account.forms.SignupForm"] = SignupForm  # built by allauth on our ACCOUNT_SIGNUP_FORM_CLASS
    return [found[name] for name in sorted(found)]


FORMS = _form_classes()


def _name(form_class: type) -> str:
    return f"{form_class.__module__}.{form_class.__qualname__}"


def test_forms_were_found():
    names = {_name(form) for form in FORMS}
    assert {"accounts.forms.ProfileForm", "merchants.forms.ApplicationForm", "charity.forms.CharityForm"} <= names
    assert len(FORMS) >= 25


@pytest.mark.parametrize("form_class", FORMS, ids=_name)
def test_every_form_of_our_apps_is_guarded(form_class):
    assert issubclass(form_class, CardNumberGuardMixin), (
        f"{_name(form_class)}: extend cashback.forms.GuardedForm / GuardedModelForm (or add CardNumberGuardMixin)"
    )


def _card_in_every_field(form: forms.BaseForm) -> dict[str, str]:
    data = {}
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        data[key] = CARD
        if isinstance(field.widget, forms.MultiWidget):
            for index in range(len(field.widget.widgets)):
                data[f"{key}_{index}"] = CARD
    return data


@pytest.mark.django_db
@pytest.mark.parametrize("form_class", FORMS, ids=_name)
def test_every_form_refuses_a_card_number_in_every_field_as_a_form_error(form_class, rf: RequestFactory):
    build = CONSTRUCTOR_KWARGS.get(_name(form_class), dict)
    kwargs = build()
    with context.request_context(rf.get("/")):
        try:
            blank = form_class(**kwargs)
        except TypeError as error:
            pytest.fail(f"{_name(form_class)} needs constructor arguments: add it to CONSTRUCTOR_KWARGS ({error})")
        if all(
            is_password_field(name) or isinstance(field.widget, forms.PasswordInput)
            for name, field in blank.fields.items()
        ):
            return  # only passwords (choosing one on an invitation): kept hashed, never in clear
        form = form_class(data=_card_in_every_field(blank), **build())
        assert not form.is_valid()

    exempt = set(form_class.card_number_fields) | set(form_class.phone_fields)
    checked = [
        name
        for name, field in form.fields.items()
        if name not in exempt
        and not is_password_field(name)
        and not isinstance(field.widget, forms.PasswordInput | forms.CheckboxInput)  # a checkbox keeps only on/off
    ]
    assert checked or exempt, "a form with no field to check"
    for name in checked:
        assert CARD_NUMBER_MESSAGE in form.errors.get(name, []), f"{_name(form_class)}.{name} took a card number"
    assert CARD.replace(" ", "") not in str(form.errors) and CARD not in str(form.errors)


@pytest.mark.django_db
def test_a_page_answers_the_refusal_as_a_form_error_not_a_500(client):
    from tests.accounts.factories import UserFactory

    user = UserFactory(city="Oslo")
    client.force_login(user)

    response = client.post("/accounts/profile/", {"full_name": "Ada", "city": f"Oslo {CARD}", "language": ""})

    assert response.status_code == 200
    assert CARD_NUMBER_MESSAGE in response.content.decode().replace("&#x27;", "'")
    user.refresh_from_db()
    assert user.city == "Oslo"
