"""The secure production mode as it runs: gunicorn (with the project's gunicorn.conf.py) serving
cashback.wsgi with the production settings — DEBUG off, HTTPS on by default — behind real TLS with a
certificate made for this test, and the same settings on a plain-HTTP port; checked from outside
with http.client, as a browser or a webhook sender sees it.

Uses the test run's PostgreSQL database (the server is another process, so the data it reads must
be committed: transactional_db)."""

import datetime
import http.client
import importlib.util
import ipaddress
import os
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from accounts.models import User
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(importlib.util.find_spec("gunicorn") is None, reason="needs gunicorn"),
    pytest.mark.skipif(importlib.util.find_spec("cryptography") is None, reason="needs cryptography"),
]

ROOT = Path(__file__).resolve().parents[2]
READY_DEADLINE_SECONDS = 60
HSTS_DEFAULT_SECONDS = 365 * 24 * 60 * 60  # SECURE_HSTS_SECONDS's default when HTTPS is on
# Variables the test settings set for the suite (tests/settings.py) that production does not have.
TEST_ONLY_VARIABLES = (
    "HTTPS",
    "ACCOUNT_RATE_LIMITS",
    "API_THROTTLES",
    "EMAIL_BACKEND",
    "CELERY_TASK_ALWAYS_EAGER",
    "REDIS_URL",
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "BEHIND_PROXY",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def _production_environment(port: int) -> dict[str, str]:
    database = connection.settings_dict
    environment = {name: value for name, value in os.environ.items() if name not in TEST_ONLY_VARIABLES}
    environment.update(
        DJANGO_SETTINGS_MODULE="cashback.settings",
        SECRET_KEY="production-mode-test-secret-key-0123456789-abcdefghijklmnop",
        ALLOWED_HOSTS="localhost,127.0.0.1",
        DATABASE_URL=(
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        VISA_WEBHOOK_SECRET="production-mode-test-webhook-secret",
        WEB_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        WEB_THREADS="2",
    )
    return environment


def _wait_until_serving(server: subprocess.Popen, connect) -> None:
    deadline = time.monotonic() + READY_DEADLINE_SECONDS
    while True:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited with {server.returncode}: {server.stderr.read()}")
        try:
            conn = connect()
            conn.request("GET", "/healthz/")
            conn.getresponse().read()
            conn.close()
            return
        except (OSError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # poll again; the deadline above bounds the wait


def _start_gunicorn(port: int, *tls_arguments: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", *tls_arguments, "cashback.wsgi:application"],
        cwd=ROOT,
        env=_production_environment(port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


class Servers:
    def __init__(self, tls_port: int, plain_port: int, cert_file: Path) -> None:
        self.tls_port, self.plain_port = tls_port, plain_port
        self.context = ssl.create_default_context(cafile=str(cert_file))

    def https(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("localhost", self.tls_port, context=self.context, timeout=30)

    def http(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("localhost", self.plain_port, timeout=30)


@pytest.fixture
def servers(transactional_db, tmp_path) -> Iterator[Servers]:
    cert_file, key_file = _self_signed_certificate(tmp_path)
    running = Servers(_free_port(), _free_port(), cert_file)
    tls = _start_gunicorn(running.tls_port, "--certfile", str(cert_file), "--keyfile", str(key_file))
    plain = _start_gunicorn(running.plain_port)
    try:
        _wait_until_serving(tls, running.https)
        _wait_until_serving(plain, running.http)
        yield running
    finally:
        _stop(tls)
        _stop(plain)


def _get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str] | None = None):
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    return response


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    """Each Set-Cookie header by cookie name, as sent."""
    return {header.split("=", 1)[0]: header for header in response.headers.get_all("Set-Cookie") or []}


def test_production_mode_over_real_tls(servers):
    # given: someone with an account (hashed as production hashes; the test settings use MD5)
    user = UserFactory(email="ada@example.com")
    User.objects.filter(pk=user.pk).update(password=PBKDF2PasswordHasher().encode(PASSWORD, "productionsalt"))

    # when: the login page is asked for over TLS
    login_page = _get(servers.https(), "/accounts/login/")

    # then: served, with every security header production promises
    assert login_page.status == 200
    # (this test process runs the test settings, HTTPS off; production's default is a year)
    assert login_page.headers["Strict-Transport-Security"] == f"max-age={HSTS_DEFAULT_SECONDS}; includeSubDomains"
    csp = login_page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert login_page.headers["X-Content-Type-Options"] == "nosniff"
    assert login_page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert login_page.headers["X-Frame-Options"] == "DENY"
    csrf_cookie = _cookies(login_page)["csrftoken"]
    assert "Secure" in csrf_cookie and "SameSite=Lax" in csrf_cookie

    # when: they log in over TLS
    token = SimpleCookie(csrf_cookie)["csrftoken"].value
    conn = servers.https()
    conn.request(
        "POST",
        "/accounts/login/",
        body=urlencode({"login": "ada@example.com", "password": PASSWORD, "csrfmiddlewaretoken": token}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={token}",
            "Referer": f"https://localhost:{servers.tls_port}/accounts/login/",
        },
    )
    logged_in = conn.getresponse()
    logged_in.read()

    # then: the session cookie is Secure, HttpOnly and SameSite
    assert logged_in.status == 302, logged_in.headers
    session_cookie = _cookies(logged_in)["sessionid"]
    assert re.search(r"(?i)\bsecure\b", session_cookie)
    assert re.search(r"(?i)\bhttponly\b", session_cookie)
    assert "SameSite=Lax" in session_cookie


def test_plain_http_is_sent_to_https_and_webhooks_over_http_are_refused(servers):
    # a page over plain HTTP: redirected to the same path over HTTPS, before anything is served
    page = _get(servers.http(), "/accounts/login/?next=/wallet/")
    assert page.status == 301
    assert page.headers["Location"] == f"https://localhost:{servers.plain_port}/accounts/login/?next=/wallet/"
    assert "Set-Cookie" not in page.headers

    # a webhook over plain HTTP: refused (a redirect would make senders post the body twice)
    conn = servers.http()
    conn.request("POST", "/webhooks/visa/", body=b"{}", headers={"Content-Type": "application/json"})
    refused = conn.getresponse()
    assert refused.status == 403
    assert b'"https_required"' in refused.read()

    # the same door over TLS gets past that check (and then wants a signature)
    conn = servers.https()
    conn.request("POST", "/webhooks/visa/", body=b"{}", headers={"Content-Type": "application/json"})
    over_tls = conn.getresponse()
    assert over_tls.status != 403 or b"https_required" not in over_tls.read()
    assert 400 <= over_tls.status < 500
