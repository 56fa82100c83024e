import pytest
from django.db import connection

from campaigns.merchant_cache import entries_forget
from cashback.providers.stripe_gateway import FakeStripeGateway
from cashback.translations import translations_compile
from wallet.services import accounts_forget

# One browser per test process, shared by every browser test (Playwright allows one sync driver);
# a local Stripe API stub and the fake gateway (stripe_stub, fake_stripe); the guard that fails a test
# which logs or stores a full card number (tests/card_number_guard.py).
pytest_plugins = ["tests.browser", "tests.stripe_stub", "tests.card_number_guard"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs PostgreSQL (locking, constraints, concurrency)")
    config.addinivalue_line("markers", "redis: needs a reachable Redis server (real Celery broker)")
    config.addinivalue_line("markers", "browser: drives Debian's chromium through Playwright")
    # The translations Django reads are built from the committed .po files (docs/i18n.md).
    translations_compile()


@pytest.fixture(autouse=True)
def _skip_without_required_services(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL or start a server on 127.0.0.1:5432")
    if request.node.get_closest_marker("redis"):
        from django.conf import settings

        if not settings.REDIS_URL:
            pytest.skip("needs Redis: set REDIS_URL or start a server on 127.0.0.1:6379")


@pytest.fixture(autouse=True)
def _process_caches_forgotten() -> None:
    """Process-wide state keyed by database ids belongs to one database: the reward worker's caches
    (remembered ledger account ids, merchants' inputs) and the fake Stripe gateway's record (its
    idempotency keys name payouts by id). A test's rolled-back rows leave ids that SQLite hands out
    again in the next test (PostgreSQL's sequences never do), so a test starts with all of them empty."""
    accounts_forget()
    entries_forget()
    FakeStripeGateway.reset()


@pytest.fixture(autouse=True)
def _celery_join_may_block_again():
    """A real worker started in this process (``start_worker`` in the Redis tests) sets Celery's
    process-wide "a task join would block" flag and never clears it; every later eager
    ``task.delay().get()`` in the same test process then raised "Never call result.get() within a
    task!" — a failure that depended on which tests xdist gave the process first."""
    from celery._state import _set_task_join_will_block

    # Before and after: a worker thread still shutting down under load may set it after its test.
    _set_task_join_will_block(False)
    yield
    _set_task_join_will_block(False)


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest):
    """pytest-django's live server, serving what production serves (cashback/wsgi.py): the webhook
    doors in front of Django, which itself is wrapped, as pytest-django does, to serve static files."""
    import os

    from pytest_django.live_server_helper import LiveServer

    from cashback.webhooks import WebhookDoors

    address = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    server = LiveServer(address, start=False)
    serve_static = server.thread.static_handler
    server.thread.static_handler = lambda django_handler: WebhookDoors(serve_static(django_handler))
    server.start()
    yield server
    server.stop()
