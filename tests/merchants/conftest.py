import pytest


@pytest.fixture(autouse=True)
def _fake_geocoder(settings):
    """Every merchants test geocodes with the deterministic fake (no network)."""
    settings.GEOCODER_PROVIDER = "fake"
