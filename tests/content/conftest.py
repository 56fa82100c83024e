from tests.adminpanel.conftest import staff_with_role  # noqa: F401  # the same staff roles fixture
