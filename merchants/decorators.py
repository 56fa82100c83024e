"""Access control for merchant-scoped views (the portal, and campaigns' offer pages).

Usage::

    @merchant_role_required(*EDITORS)
    def location_create(request, merchant_id): ...

The view must take a ``merchant_id`` keyword argument.
"""

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from accounts.request_types import AuthenticatedHttpRequest
from merchants.models import ANY_ROLE, EDITORS, OWNERS, Membership, Merchant
from merchants.selectors import membership_for

__all__ = ["ANY_ROLE", "EDITORS", "OWNERS", "merchant_role_required"]


class MerchantRequest(AuthenticatedHttpRequest):
    """A request to a portal view behind ``merchant_role_required``, which sets these two."""

    merchant: Merchant
    membership: Membership


def _flatten(roles: Iterable[Any]) -> frozenset[str]:
    flat: set[str] = set()
    for role in roles:
        if isinstance(role, list | tuple | set | frozenset):
            flat.update(str(r) for r in role)
        else:
            flat.add(str(role))
    unknown = flat - set(Membership.Role.values)
    if unknown or not flat:
        raise ValueError(f"merchant_role_required needs roles from Membership.Role, got {sorted(flat)}")
    return frozenset(flat)


def merchant_role_required(*roles: Any) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Let through members of the ``merchant_id`` merchant whose role is one of ``roles``.

    - anonymous → redirect to the login page, coming back here afterwards;
    - not a member of that merchant, or no such merchant → 404 (never reveal another merchant);
    - a member with another role → 403;
    - otherwise ``request.merchant`` and ``request.membership`` are set and the view runs.

    Roles may be given one by one (``*EDITORS``) or as one tuple (``EDITORS``).
    """
    allowed = _flatten(roles)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            try:
                merchant_id = int(kwargs["merchant_id"])
            except (KeyError, TypeError, ValueError) as error:
                raise Http404("No such merchant.") from error
            membership = membership_for(user=request.user, merchant_id=merchant_id)
            if membership is None:
                raise Http404("No such merchant.")
            if membership.role not in allowed:
                raise PermissionDenied("Your role at this merchant does not allow this.")
            # The decorator is what makes an HttpRequest a MerchantRequest.
            merchant_request = cast(MerchantRequest, request)
            merchant_request.merchant = membership.merchant
            merchant_request.membership = membership
            return view(merchant_request, *args, **kwargs)

        # Read by the tests of every portal view's roles; mypy cannot type an attribute set on a function.
        wrapper.merchant_roles = allowed  # type: ignore[attr-defined]  # a function attribute, see above
        return wrapper

    return decorator
