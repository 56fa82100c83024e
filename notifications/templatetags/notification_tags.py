from django import template
from django.http import HttpRequest

from notifications.selectors import unread_count_cached

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context: template.Context) -> int:
    """The signed-in person's unread count for the wallet's header, from the cache (no query on a hit)."""
    request: HttpRequest | None = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return unread_count_cached(user=user)
