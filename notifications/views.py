"""The wallet's inbox (``/wallet/notifications/``) and notification preferences."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.request_types import AuthenticatedHttpRequest
from notifications import selectors, services
from notifications.forms import PreferencesForm

PAGE_SIZE = 20


@login_required
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {"page_obj": page, "unread": selectors.unread_count(user=request.user)},
    )


@login_required
@require_POST
def mark_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    raw = request.POST.get("id", "")
    if raw.isdigit():
        services.notifications_mark_read(user=request.user, notification_ids=[int(raw)])
    elif request.POST.get("all"):
        services.notifications_mark_read(user=request.user)
    return redirect("notifications:inbox")


@login_required
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = selectors.preferences_of(user=request.user)
    form = PreferencesForm(request.POST or None, preferences=current)
    if request.method == "POST" and form.is_valid():
        services.preferences_save(user=request.user, **form.save_arguments())
        messages.success(request, _("Your notification preferences are saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
