import pytest

from referrals import services
from tests.adminpanel.conftest import staff_with_role  # noqa: F401 - staff with a role and two-factor


@pytest.fixture
def program(db):
    """Version 1 of the programme (the defaults: 50 + 50 NOK, business 500 NOK, minimum 200 NOK,
    30 days, 10 a month, 24 h review window)."""
    return services.program_current()
