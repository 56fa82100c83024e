import pytest

from referrals import services


@pytest.fixture
def program(db):
    """Version 1 of the programme (the defaults: 50 + 50 NOK, business 500 NOK, minimum 200 NOK,
    30 days, 10 a month, 24 h review window)."""
    return services.program_current()
