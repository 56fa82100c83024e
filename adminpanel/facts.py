"""The staff page of facts after commit (/staff/facts/): deliveries of announced facts to their
subscribers that failed or are still pending, with the error and a retry button
(cashback.events.delivery_retry). Support may read; finance and administrators may retry."""

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
from cashback import events, selectors
from cashback.models import DeliveryStatus, FactDelivery

PAGE_SIZE = 25
VIEW_DELIVERY = "cashback.view_factdelivery"
CHANGE_DELIVERY = "cashback.change_factdelivery"


@staff_required(VIEW_DELIVERY)
def fact_list(request: HttpRequest) -> HttpResponse:
    context = {
        "section": "facts",
        "page_obj": Paginator(selectors.fact_deliveries_open(), PAGE_SIZE).get_page(request.GET.get("page")),
        "counts": selectors.fact_delivery_counts(),
        "can_retry": request.user.has_perm(CHANGE_DELIVERY),
    }
    return render(request, "adminpanel/fact_list.html", context)


@require_POST
@staff_required(VIEW_DELIVERY, CHANGE_DELIVERY)
def fact_retry(request: AuthenticatedHttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(FactDelivery, pk=delivery_id)
    if delivery.status == DeliveryStatus.DONE:
        messages.info(request, _("This delivery is already done; nothing to retry."))
        return redirect("adminpanel:fact_list")
    with transaction.atomic():
        before = delivery.status
        outcome = events.delivery_retry(delivery=delivery)
        record_staff_action(
            actor=request.user,
            action="fact.retry",
            target=delivery,
            summary=f"Retried fact delivery {delivery.pk}",
            before={"status": before},
            after={"status": outcome},
        )
    if outcome == DeliveryStatus.DONE:
        messages.success(request, _("%(subscriber)s handled the fact.") % {"subscriber": delivery.subscriber})
    else:
        messages.error(request, _("The delivery failed again; the error is shown in the list."))
    return redirect("adminpanel:fact_list")
