"""Access to the programme pages: a person's field role at the merchant's brand owner.

Field staff need not be members of the merchant's portal team; their ``FieldRole`` is what lets them in:

- anonymous → the login page, coming back afterwards;
- no role at that merchant, or the merchant runs no programmes → 404 (never reveal another merchant);
- a role that may not do this → 403;
- otherwise ``request.field_role`` is set. Region scoping is the selectors' and services' work.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from accounts.request_types import AuthenticatedHttpRequest
from programmes.models import FieldRole, FieldRoleKind
from programmes.selectors import field_role_for


class FieldRoleRequest(AuthenticatedHttpRequest):
    field_role: FieldRole


ANY_FIELD_ROLE = tuple(FieldRoleKind.values)


def field_role_required(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    allowed = frozenset(roles)
    if not allowed or allowed - set(FieldRoleKind.values):
        raise ValueError(f"field_role_required needs roles from FieldRoleKind, got {sorted(allowed)}")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            role = field_role_for(user=request.user, merchant_id=int(kwargs["merchant_id"]))
            if role is None:
                raise Http404("No such merchant.")
            if role.role not in allowed:
                raise PermissionDenied("Your programme role does not allow this.")
            field_request = cast(FieldRoleRequest, request)  # the decorator is what sets field_role
            field_request.field_role = role
            return view(field_request, *args, **kwargs)

        wrapper.field_roles = allowed  # type: ignore[attr-defined]  # read by the role matrix test
        return wrapper

    return decorator
