import threading
from dataclasses import dataclass, field

import pytest

from cashback import inbox
from cashback.models import WebhookEvent
from tests import webhooks


@pytest.fixture
def webhook_secrets(settings):
    """The signing secrets the helpers in tests/webhooks.py sign with."""
    settings.VISA_WEBHOOK_SECRET = webhooks.VISA_SECRET
    settings.VISA_WEBHOOK_SECRET_PREVIOUS = ""
    settings.STRIPE_WEBHOOK_SECRET = webhooks.STRIPE_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = webhooks.STRIPE_CONNECT_SECRET
    return settings


@dataclass
class RecordingHandler:
    """A dummy handler: records each call, then behaves as told (return, or raise ``raises``)."""

    raises: BaseException | None = None
    calls: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: WebhookEvent) -> None:
        with self.lock:
            self.calls.append(event.pk)
        if self.raises is not None:
            raise self.raises


@pytest.fixture
def handlers(monkeypatch):
    """An empty handler registry for the test (the real handlers of other apps are set aside).

    ``handlers.add(source, event_type)`` registers and returns a RecordingHandler.
    """

    class Registry:
        def add(self, source: str, event_type: str, handler=None):
            handler = handler or RecordingHandler()
            inbox.register(source=source, event_type=event_type, handler=handler)
            return handler

    monkeypatch.setattr(inbox, "_handlers", {})
    return Registry()


@pytest.fixture
def staff_with_role(db):
    """Staff with two-factor set up and the given staff role (as in tests/adminpanel/conftest.py)."""
    from django.contrib.auth.models import Group

    from accounts.services import staff_roles_sync
    from tests.accounts.factories import StaffUserFactory

    staff_roles_sync()

    def make(role: str | None):
        user = StaffUserFactory(mfa=True)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


def pytest_itemcollected(item: pytest.Item) -> None:
    """One test id per API operation for schemathesis' tests (test_api_schemathesis.py).

    schemathesis 4.32 names each operation's item ``test[GET /path]`` but hands pytest 9.2 the bare
    function name as ``originalname``, from which pytest now builds the id: every operation got the
    same id, so xdist could not tell them apart. The id is rebuilt from the full name."""
    if type(item).__name__ == "SchemathesisFunction" and item.name != getattr(item, "originalname", item.name):
        item._id = item.parent.id.child(item.name)  # type: ignore[union-attr]
