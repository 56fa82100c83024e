# The staff-role fixture of the admin panel's tests: staff with two-factor and one role.
from tests.adminpanel.conftest import staff_with_role

__all__ = ["staff_with_role"]
