"""Request types for views behind a login, for the type checker only.

Django types ``request.user`` as ``User | AnonymousUser``; a view behind
``login_required`` (or DRF's ``IsAuthenticated``, the default permission) only
ever sees a signed-in user. Annotating such a view's request with these classes
says so without a runtime check. Nothing here changes what a request is.
"""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails
from rest_framework.request import Request

from accounts.models import User


class HtmxHttpRequest(HttpRequest):
    """Any request, with django-htmx's ``request.htmx`` (its middleware sets it on every request)."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """A request to a view behind ``login_required``."""

    user: User


class AuthenticatedRequest(Request):
    """A DRF request to an API whose permissions require a signed-in user."""

    user: User
