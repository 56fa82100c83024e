"""Norwegian Bokmål is complete and current, and the pages speak the visitor's language.

The catalogue checks are what CI relies on: every message of ``locale/nb/LC_MESSAGES/django.po`` is
translated and none is fuzzy; the file holds exactly the messages the code and templates mark
(``makemessages`` run into a copy must add or drop nothing); the templates of the areas done have no
visible text left unmarked (``TRANSLATED_TEMPLATES``; docs/i18n.md says which areas those are).
"""

import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from tests.accounts.factories import PASSWORD, UserFactory
from tests.i18n.template_text import untranslated

BASE = Path(settings.BASE_DIR)
NB_PO = BASE / "locale" / "nb" / "LC_MESSAGES" / "django.po"

# The templates whose visible text is all marked: the base layout, navigation, footer, the home page
# and the public pages (docs/i18n.md, "What is translated"). Later areas are added as they are done.
TRANSLATED_TEMPLATES = [
    "templates/base.html",
    "templates/components",
    "templates/public",
    "templates/errors",
    "templates/campaigns/shops",
    "templates/merchants/partners",
    "templates/allauth/layouts",
    "templates/allauth/elements",  # allauth's page parts: slots only, allauth's own text comes translated
    "content/templates/content/_banners.html",
    "charity/templates/charity/_logo.html",
    "content/templates/content/faq.html",
    "content/templates/content/page.html",
    "content/templates/content/_banner.html",
    "content/templates/content/_preview_notice.html",
    "charity/templates/charity/list.html",
    "charity/templates/charity/detail.html",
    "charity/templates/charity/_impact.html",
    # (b) the consumer's wallet, account, purchases, giving, referrals, offers near me, notifications, e-mails
    "templates/wallet/_subnav.html",
    "templates/programmes/catalogue",  # the rewards catalogue and vouchers (member's and brand owner's pages)
    "templates/wallet/home.html",
    "templates/wallet/payouts.html",
    "templates/wallet/payouts_app_return.html",
    "templates/wallet/spend.html",
    "templates/wallet/statement_error.html",
    "templates/wallet/statement_pdf.html",
    "templates/wallet/statements.html",
    "templates/accounts",
    "templates/account",
    "templates/campaigns/_challenge_progress.html",
    "templates/campaigns/_tier_card.html",
    "templates/campaigns/_wallet_progress.html",
    "templates/campaigns/challenges.html",
    "templates/campaigns/purchase_detail.html",
    "templates/campaigns/purchases.html",
    "templates/geofencing",
    "templates/notifications",
    "templates/referrals/link.html",
    "templates/referrals/link_unknown.html",
    "templates/referrals/wallet.html",
    "charity/templates/charity/donate.html",
    "charity/templates/charity/giving.html",
    "charity/templates/charity/receipt.html",
    "templates/merchants/email",
    # (c) the merchant portal: shops, team, settings, billing, API keys, Stripe, offers, insights, reports
    "templates/merchants/_company_details.html",
    "templates/merchants/billing",
    "templates/merchants/portal",
    "templates/insights",
    "templates/campaigns/offer_detail.html",
    "templates/campaigns/offer_form.html",
    "templates/campaigns/offer_list.html",
    "templates/campaigns/offer_preview.html",
    "templates/campaigns/challenge_form.html",
    "templates/campaigns/line_rule_form.html",
    "templates/campaigns/cost_preview_page.html",
    "templates/campaigns/_cost_preview.html",
    # (e) business programmes (issue 20): the field staff's pages, the wallet's section and actions log
    *(
        f"templates/programmes/{name}.html"
        for name in (
            "_achievement_table",
            "_wallet_section",
            "action_rule_form",
            "action_rules",
            "actions_log",
            "base",
            "budget_form",
            "contract_detail",
            "contract_form",
            "contracts",
            "customer_form",
            "customer_sources",
            "customers",
            "monitoring",
            "master_item",
            "dashboard",
            "entry",
            "master_data",
            "my_contract",
            "my_contracts",
            "programme_form",
            "sales_upload",
            "team",
        )
    ),
    # (d) the staff panel: every page of adminpanel, monitoring, and the staff pages of charities,
    # content, offers, announcements, referrals and payouts (the programmes app's pages translate
    # themselves as they are built)
    "templates/adminpanel",
    "templates/monitoring",
    "templates/campaigns/staff",
    "templates/campaigns/announcements.html",
    "templates/campaigns/announcement_detail.html",
    "templates/referrals/staff",
    "templates/wallet/staff_payouts.html",
    "templates/wallet/staff_payouts_failed.html",
    "charity/templates/charity/staff",
    "content/templates/content/staff",
    "content/templates/content/terms_default.html",
    # business cashback's payout receipt (e-mail and PDF)
    "templates/wallet/payout_receipt_email.txt",
    "templates/wallet/payout_receipt_pdf.html",
]
# Names and examples that read the same in every language.
NOT_FOR_TRANSLATION = {
    "Cashback",
    "· Cashback",
    "— Cashback",
    "{{ portal_url }} — Cashback",
    "Bakeriet, Grünerløkka",
    "Sportshuset",
    "how-it-works",  # URL paths on the staff content list
    "pages/{{ row.item.slug }}",
}


def _catalog(path: Path):
    with path.open("rb") as handle:
        return read_po(handle, locale="nb")


def _ids(catalog) -> set:
    return {message.id for message in catalog if message.id}


def test_every_norwegian_message_is_translated_and_none_is_fuzzy():
    catalog = _catalog(NB_PO)
    assert len(_ids(catalog)) > 300
    untranslated_ids = [
        message.id
        for message in catalog
        if message.id and not (all(message.string) if isinstance(message.id, tuple) else message.string)
    ]
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    assert untranslated_ids == []
    assert fuzzy == []


def test_placeholders_survive_translation():
    """A translation keeps every %(name)s and {name} of its message (msgfmt --check says the same)."""
    import re

    placeholder = re.compile(r"%\(\w+\)s|\{\w+\}")
    for message in _catalog(NB_PO):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(placeholder.findall(ids[-1]))
        for string in strings:
            assert set(placeholder.findall(string)) == wanted, message.id


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="makemessages needs gettext's xgettext")
def test_the_norwegian_file_is_up_to_date_with_the_code_and_templates(tmp_path, settings, monkeypatch):
    """``make messages`` would add or drop nothing: run makemessages into a copy and compare."""
    copy = tmp_path / "nb" / "LC_MESSAGES" / "django.po"
    copy.parent.mkdir(parents=True)
    shutil.copy(NB_PO, copy)
    settings.LOCALE_PATHS = [tmp_path]
    monkeypatch.chdir(BASE)
    call_command(
        "makemessages",
        locale=["nb"],
        ignore_patterns=[".venv/*", "tests/*", "bench/*", "static/*"],
        add_location="file",
        no_obsolete=True,
        verbosity=0,
    )
    before, after = _ids(_catalog(NB_PO)), _ids(_catalog(copy))
    assert sorted(map(str, after - before)) == [], "new text: run `make messages` and translate it"
    assert sorted(map(str, before - after)) == [], "text that is gone: run `make messages`"


def _template_files() -> list[Path]:
    files = []
    for entry in TRANSLATED_TEMPLATES:
        path = BASE / entry
        files.extend(sorted([*path.rglob("*.html"), *path.rglob("*.txt")]) if path.is_dir() else [path])
    return files


def test_the_translated_areas_have_no_unmarked_visible_text():
    unmarked = {}
    for path in _template_files():
        found = [text for text in untranslated(path.read_text()) if text not in NOT_FOR_TRANSLATION]
        if found:
            unmarked[str(path.relative_to(BASE))] = found
    assert unmarked == {}


def test_the_scanner_finds_unmarked_text():
    source = (
        '{% extends "base.html" %}{% load i18n %}{% block body_class %}page{% endblock %}'
        '<h1>{% translate "Done" %}</h1><p>Left {{ count }} behind</p><img alt="A picture">'
        "{% blocktranslate %}Marked {{ x }}{% endblocktranslate %}<time>{{ when|local_date }}</time>"
    )
    assert untranslated(source) == ["Left {{ count }} behind", "A picture"]


# The pages speak the visitor's language -------------------------------------------------------


@pytest.mark.django_db
def test_the_home_page_follows_the_browsers_language(client):
    english = client.get("/", headers={"accept-language": "en"}).content.decode()
    norwegian = client.get("/", headers={"accept-language": "nb-NO,nb;q=0.9,en;q=0.5"}).content.decode()

    assert "Get money back every time you shop" in english and "NOK\u00a0245.50" in english
    assert "Få penger tilbake hver gang du handler" in norwegian
    assert "245,50\u00a0kr" in norwegian
    assert '<html lang="nb"' in norwegian


@pytest.mark.django_db
def test_the_switcher_keeps_the_page_and_remembers_the_choice_without_javascript(client):
    response = client.post(reverse("set_language"), {"language": "nb", "next": "/shops/?q=Bergen"})

    assert response.status_code == 302 and response["Location"] == "/shops/?q=Bergen"
    page = client.get("/shops/").content.decode()
    assert "Partnerbutikker" in page
    assert f'action="{reverse("set_language")}"' in page  # header and footer
    assert page.count('name="language"') == 2


@pytest.mark.django_db
def test_a_signed_in_persons_profile_language_wins_and_the_switcher_saves_it(client):
    user = UserFactory(language="nb", time_zone="America/New_York")
    client.login(email=user.email, password=PASSWORD)

    page = client.get(reverse("accounts:profile"), headers={"accept-language": "en"}).content.decode()
    assert "Kontoen din" in page or "Lommebok" in page

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    user.refresh_from_db()
    assert user.language == "en"
    assert "Get money back" in client.get("/", headers={"accept-language": "nb"}).content.decode()


@pytest.mark.django_db
def test_the_profile_saves_a_time_zone_and_refuses_an_unknown_one(client):
    user = UserFactory()
    client.login(email=user.email, password=PASSWORD)
    fields = {"full_name": "", "birth_year": "", "gender": "", "city": "", "language": "nb"}

    client.post(reverse("accounts:profile"), {**fields, "time_zone": "Europe/Helsinki"})
    user.refresh_from_db()
    assert (user.language, user.time_zone) == ("nb", "Europe/Helsinki")

    response = client.post(reverse("accounts:profile"), {**fields, "time_zone": "Mars/Olympus"})
    assert response.status_code == 200 and "time_zone" in response.context["form"].errors
    user.refresh_from_db()
    assert user.time_zone == "Europe/Helsinki"


@pytest.mark.django_db
def test_the_api_answers_in_the_apps_language_with_english_codes(client):
    """The mobile API honours Accept-Language: messages translated, ``code`` the same stable English."""
    english = client.get("/api/v1/me/", headers={"accept-language": "en"}).json()
    norwegian = client.get("/api/v1/me/", headers={"accept-language": "nb"}).json()

    assert english["error"]["code"] == norwegian["error"]["code"] == "not_authenticated"
    assert english["error"]["message"] != norwegian["error"]["message"]
    assert "autentiseringsinformasjon" in norwegian["error"]["message"]
