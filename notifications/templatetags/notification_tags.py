from django import template
from django.http import HttpRequest

from notifications.selectors import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context: template.Context) -> int:
    """The signed-in person's unread count for the wallet's header: one COUNT on the partial index of unread
    messages, the same on every page (a cache made a page's query count depend on what was read before)."""
    request: HttpRequest | None = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return unread_count(user=user)
