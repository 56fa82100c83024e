"""The staff inbox page (/staff/inbox/): unmatched and failed webhook events, their payload, and a
retry button that processes an event again at once (cashback.inbox.event_retry).

A staff page, so it sits in the staff panel on top of the apps; the inbox itself (storage, dispatch,
retry) is the base's (cashback.inbox, cashback.selectors)."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import staff_required
from accounts.request_types import AuthenticatedHttpRequest
from accounts.staff_audit import record_staff_action
from adminpanel.forms import InboxFilterForm
from cashback import inbox, selectors
from cashback.errors import DomainError
from cashback.models import WebhookEvent, WebhookStatus

PAGE_SIZE = 25
VIEW_EVENT = "cashback.view_webhookevent"
CHANGE_EVENT = "cashback.change_webhookevent"
RETRYABLE = (WebhookStatus.RECEIVED, WebhookStatus.UNMATCHED, WebhookStatus.FAILED)


@staff_required(VIEW_EVENT)
def inbox_list(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = selectors.webhook_events_for_staff(
        status=filters.get("status", ""), source=filters.get("source", ""), search=filters.get("q", "")
    )
    context = {
        "section": "inbox",
        "form": form,
        "filtered": any(filters.values()),
        "page_obj": Paginator(events, PAGE_SIZE).get_page(request.GET.get("page")),
        "counts": selectors.webhook_status_counts(),
    }
    return render(request, "adminpanel/inbox_list.html", context)


@staff_required(VIEW_EVENT)
def inbox_detail(request: HttpRequest, event_pk: int) -> HttpResponse:
    event = get_object_or_404(WebhookEvent, pk=event_pk)
    context = {
        "section": "inbox",
        "event": event,
        "payload": json.dumps(event.payload, indent=2, sort_keys=True, ensure_ascii=False),
        "can_retry": request.user.has_perm(CHANGE_EVENT)
        and event.status in RETRYABLE
        and event.payload_reduced_at is None,
    }
    return render(request, "adminpanel/inbox_detail.html", context)


@require_POST
@staff_required(VIEW_EVENT, CHANGE_EVENT)
def inbox_retry(request: AuthenticatedHttpRequest, event_pk: int) -> HttpResponse:
    event = get_object_or_404(WebhookEvent, pk=event_pk)
    if event.status not in RETRYABLE:
        messages.info(
            request,
            _("This event is already %(status)s; nothing to retry.") % {"status": event.get_status_display().lower()},
        )
        return redirect("inbox:staff_detail", event_pk=event.pk)
    try:
        with transaction.atomic():
            before = event.status
            outcome = inbox.event_retry(event=event)
            record_staff_action(
                actor=request.user,
                action="webhook.retry",
                target=event,
                summary=f"Retried webhook event {event.pk}",
                before={"status": before},
                after={"status": outcome},
            )
    except DomainError as error:  # a payload reduced after the retention period
        messages.error(request, error.message)
        return redirect("inbox:staff_detail", event_pk=event.pk)
    label = WebhookStatus(outcome).label.lower() if outcome in WebhookStatus.values else outcome
    if outcome == WebhookStatus.PROCESSED:
        messages.success(request, _("The event was processed."))
    elif outcome == WebhookStatus.FAILED:
        messages.error(request, _("The event failed again; the error is shown below."))
    else:
        messages.info(request, _("The event is now %(label)s.") % {"label": label})
    return redirect("inbox:staff_detail", event_pk=event.pk)
