"""``GET /api/v1/actions/``: the signed-in member's actions log, newest first (the wallet page's twin)."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from accounts.request_types import AuthenticatedRequest
from cashback.api_times import api_datetime
from programmes.action_models import ActionReport
from programmes.action_selectors import actions_of
from programmes.partner_apis import OutcomeSerializer, outcome_body


class ActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    action_label = serializers.CharField()
    reported_through = serializers.ChoiceField(choices=["partner", "platform"])
    reported_by = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    occurred_at = serializers.DateTimeField()
    outcomes = OutcomeSerializer(many=True)

    def to_representation(self, instance: ActionReport) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "action": instance.action,
            "action_label": str(instance.get_action_display()),
            "reported_through": instance.source,
            "reported_by": instance.merchant.display_name if instance.merchant else "",
            "description": instance.description,
            "occurred_at": api_datetime(instance.occurred_at),
            "outcomes": [outcome_body(outcome) for outcome in instance.outcomes.all()],
        }


class ActionsApi(ListAPIView):
    """Every action reported for you (surveys, shares, birthday, …) and what it earned, or why not:
    ``awarded``, ``limit_reached``, ``budget_exhausted``, ``outside_schedule``, ``member_blocked`` or
    ``no_rule``."""

    serializer_class = ActionSerializer
    request: AuthenticatedRequest

    def get_queryset(self) -> QuerySet[ActionReport]:
        return actions_of(user=self.request.user)

    @extend_schema(operation_id="actions_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
