"""The public site, error pages and the shared layout: content, navigation per role and the CSP contract."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password-2026"


class _PageParser(HTMLParser):
    """Collects what the CSP cares about, plus the navigation links, from rendered HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_styles: list[str] = []
        self.inline_scripts: list[dict[str, str | None]] = []
        self.style_blocks = 0
        self.event_handlers: list[str] = []
        self.links: list[dict[str, str | None]] = []
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.nav_labels: list[str] = []
        self._in_nav = False
        self._nav_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if "style" in attributes:
            self.inline_styles.append(tag)
        self.event_handlers.extend(name for name in attributes if name.startswith("on"))
        # A JSON data block (type="application/json") is not run, so the CSP does not apply to it.
        is_data_block = attributes.get("type") == "application/json"
        if tag == "script" and not attributes.get("src") and not is_data_block:
            self.inline_scripts.append(attributes)
        if tag == "style":
            self.style_blocks += 1
        if tag == "a":
            self.links.append(attributes)
        if tag in ("input", "select", "textarea") and attributes.get("id"):
            self.inputs[attributes["id"]] = attributes
        if tag == "nav" and attributes.get("aria-label") == "Main":
            self._in_nav = True
        if self._in_nav and tag in ("a", "button"):
            self._nav_text = []

    def handle_endtag(self, tag: str) -> None:
        if self._in_nav and tag in ("a", "button"):
            self.nav_labels.append("".join(self._nav_text).strip())
        if tag == "nav":
            self._in_nav = False

    def handle_data(self, data: str) -> None:
        if self._in_nav:
            self._nav_text.append(data)


def _parse(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    return parser


def _user(*, email: str, is_staff: bool = False):
    return get_user_model().objects.create_user(email=email, password=PASSWORD, is_staff=is_staff)


def test_home_explains_the_product_and_links_to_sign_up(client):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Get money back every time you shop" in html
    for step in ("Link your card", "Shop at partner shops", "Cashback lands in your wallet"):
        assert step in html
    assert "school desk = NOK\u00a0800.00" in html
    assert "Become a partner" in html
    hrefs = [link.get("href") for link in _parse(html).links]
    assert reverse("account_signup") in hrefs


def test_how_it_works_page_renders(client):
    response = client.get(reverse("how_it_works"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>How it works</h1>" in html
    assert "never see or store your full card number" in html


def test_unknown_page_gets_the_house_style_404(client):
    response = client.get("/this-page-does-not-exist/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "We can't find that page" in html
    assert 'class="site-header"' in html
    assert 'id="main"' in html


def test_unknown_api_url_gets_a_json_404(client):
    response = client.get("/api/v1/nope/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"]["code"] == "not_found"
    assert body["error"]["message"]


def test_500_page_is_standalone():
    # It must render without a request, context processors or template tags that could fail.
    from django.template import loader

    html = loader.get_template("errors/500.html").render()

    assert "Something went wrong on our side" in html
    assert 'href="/static/css/app.css"' in html
    assert _parse(html).inline_styles == []


def test_visitor_navigation(client):
    labels = _parse(client.get(reverse("home")).content.decode()).nav_labels

    assert labels == ["Shops", "How it works", "Log in", "Sign up"]


def test_consumer_navigation_has_wallet_account_and_a_logout_form(client):
    client.force_login(_user(email="consumer@example.com"))

    html = client.get(reverse("home")).content.decode()

    assert _parse(html).nav_labels == ["Wallet", "Account", "Log out"]
    assert f'<form method="post" action="{reverse("account_logout")}">' in html
    assert "csrfmiddlewaretoken" in html


def test_platform_staff_navigation_links_to_the_admin(client):
    client.force_login(_user(email="staff@example.com", is_staff=True))

    # Staff without two-factor authentication are sent to set it up; the navigation is there too.
    page = _parse(client.get(reverse("home"), follow=True).content.decode())

    assert page.nav_labels == ["Wallet", "Account", "Staff panel", "Admin", "Log out"]
    assert reverse("admin:index") in [link.get("href") for link in page.links]


def test_current_page_is_marked_in_the_navigation(client):
    page = _parse(client.get(reverse("how_it_works")).content.decode())

    current = [link.get("href") for link in page.links if link.get("aria-current") == "page"]
    assert current == [reverse("how_it_works")]


@pytest.mark.parametrize("url_name", ["home", "how_it_works", "faq", "shops:list", "account_login", "account_signup"])
def test_responses_carry_a_content_security_policy(client, url_name):
    response = client.get(reverse(url_name))

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy


@pytest.mark.parametrize(
    "url_name",
    ["home", "how_it_works", "faq", "shops:list", "account_login", "account_signup", "account_reset_password"],
)
def test_pages_have_no_inline_styles_or_scripts(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 200
    html = response.content.decode()
    page = _parse(html)
    assert 'style="' not in html
    assert page.inline_styles == []
    assert page.style_blocks == 0
    assert page.inline_scripts == []
    assert page.event_handlers == []


def test_allauth_forms_use_our_field_markup(client):
    response = client.post(reverse("account_login"), {"login": "nobody@example.com", "password": "wrong"})

    html = response.content.decode()
    assert response.status_code == 200
    assert '<form class="form"' in html
    assert 'class="form-errors" role="alert"' in html
    assert '<label for="id_login">' in html
    assert 'class="card auth-card stack"' in html


def test_field_errors_are_linked_to_their_input(client):
    response = client.post(reverse("account_signup"), {"email": "not-an-email", "password1": "x", "password2": "y"})

    html = response.content.decode()
    email = _parse(html).inputs["id_email"]
    assert email["aria-invalid"] == "true"
    assert "id_email_error" in (email["aria-describedby"] or "").split()
    assert 'id="id_email_error"' in html


@pytest.mark.parametrize(
    "url_name",
    [
        "wallet:home",
        "accounts:profile",
        "account_email",
        "account_change_phone",
        "account_change_password",
        "mfa_index",
        "account_reauthenticate",
        "usersessions_list",
    ],
)
def test_signed_in_pages_have_no_inline_styles_or_scripts(client, url_name):
    user = get_user_model().objects.create_user(
        email="csp@example.com", password="Fjord-Lantern-2026", phone="+4791234567"
    )
    client.force_login(user)

    response = client.get(reverse(url_name))

    assert response.status_code == 200
    page = _parse(response.content.decode())
    assert page.inline_styles == []
    assert page.style_blocks == 0
    assert page.inline_scripts == []
    assert page.event_handlers == []
