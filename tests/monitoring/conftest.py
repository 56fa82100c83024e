import pytest
from django.contrib.auth.models import Group

from accounts.services import staff_roles_sync
from tests.accounts.factories import StaffUserFactory


@pytest.fixture
def staff_with_role(db):
    """Staff with two-factor set up and the given staff role (a Group synced from STAFF_ROLE_PERMISSIONS)."""
    staff_roles_sync()

    def make(role: str | None):
        user = StaffUserFactory(mfa=True)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make
