import pytest

from cashback.providers.push import FakePushClient
from cashback.providers.sms import FakeSmsClient


@pytest.fixture(autouse=True)
def fake_providers():
    """The fake SMS and push providers, emptied and up before each test."""
    FakeSmsClient.clear()
    FakePushClient.clear()
    yield
    FakeSmsClient.clear()
    FakePushClient.clear()
