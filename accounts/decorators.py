"""The staff guard: staff only (with two-factor, which accounts.middleware enforces), and the Django
permission an action needs — the staff roles (accounts.services.STAFF_ROLE_PERMISSIONS) grant those.

It lives with the staff roles so that every app's staff pages (charity, referrals, payouts, the webhook
inbox, the offer review, the staff panel) can use it without importing the staff panel, which sits on top.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def staff_required(*permissions: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Anonymous → login page; not staff, or staff without every one of ``permissions`` → 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_active or not user.is_staff:
                raise PermissionDenied("The staff panel is for platform staff.")
            if permissions and not user.has_perms(permissions):
                raise PermissionDenied("Your staff role does not allow this.")
            return view(request, *args, **kwargs)

        wrapper.staff_permissions = permissions  # type: ignore[attr-defined]  # mypy cannot type an attribute set on a function
        return wrapper

    return decorator
