"""The marketing and programme admins' monitoring page. Thin: one selector, one template."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext

from programmes.decorators import FieldRoleRequest, field_role_required
from programmes.models import FieldRoleKind
from programmes.monitoring import monitoring
from programmes.views import _context

MONITORS = (FieldRoleKind.MARKETING_ADMIN, FieldRoleKind.PROGRAMME_ADMIN)


@field_role_required(*MONITORS)
def monitoring_page(request: FieldRoleRequest, merchant_id: int) -> HttpResponse:
    board = monitoring(brand_owner=request.field_role.brand_owner)
    # One comparable measure across programmes of volume and of value: the share of the target achieved.
    chart = {
        "labels": [monitor.programme.name for monitor in board.programmes],
        "achieved": [monitor.percent for monitor in board.programmes],
        "target": [100 if monitor.target else 0 for monitor in board.programmes],
        "unit": "%",
        "exponent": 0,
        "achieved_label": gettext("Achieved (share of the target)"),
        "target_label": gettext("Target"),
    }
    return render(request, "programmes/monitoring.html", _context(request, "monitoring", board=board, chart=chart))
