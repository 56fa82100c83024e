"""``POST /api/v1/partner/events/``: a partner system reports an action a member did (a survey completed,
a social share); the rules of the brand owner behind the API key judge it (``programmes.actions``).

Doors only, as the other partner endpoints: merchant API key (``merchants.partner_apis.PartnerApi``),
validation (400 in the error format), ``Idempotency-Key`` (``merchants.idempotency``: a replay gets the
first response, the same key with another body 409), then one service call. The partner's ``event_id``
is the source event: reported again under a new key it earns nothing again (the first report is
answered, 200); under another member or action it is refused (409 ``action_already_reported``).
"""

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.partner_serializers import CLOCK_SKEW, REFERENCE_MESSAGE, REFERENCE_PATTERN, CustomerSerializer
from cashback.api_times import api_datetime
from merchants.errors import CustomerNotFoundError
from merchants.idempotency import idempotent_response
from merchants.models import CustomerLink
from merchants.partner_apis import IDEMPOTENCY_PARAMETER, PartnerApi
from merchants.services import customer_match
from programmes import actions
from programmes.action_models import PARTNER_ACTIONS, ActionReport, ValueKind
from programmes.models import BrandOwner
from wallet.money import minor_to_decimal_string


class EventSerializer(serializers.Serializer):
    event_id = serializers.RegexField(REFERENCE_PATTERN, error_messages={"invalid": REFERENCE_MESSAGE})
    action = serializers.ChoiceField(choices=[(kind.value, kind.label) for kind in PARTNER_ACTIONS])
    customer = CustomerSerializer()
    occurred_at = serializers.DateTimeField(required=False, help_text="ISO 8601; when left out, now.")
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default="", help_text="E.g. the survey's name."
    )

    def validate_occurred_at(self, value: Any) -> Any:
        if value > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError(gettext("The event cannot be in the future."))
        return value


class OutcomeSerializer(serializers.Serializer):
    rule = serializers.CharField(allow_null=True)
    result = serializers.CharField()
    value_kind = serializers.CharField(allow_blank=True)
    amount = serializers.CharField(allow_null=True, help_text="Cash as a decimal string, or points.")
    currency = serializers.CharField(allow_blank=True)


class EventResponseSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    action = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    outcomes = OutcomeSerializer(many=True)


def outcome_body(outcome: Any) -> dict[str, Any]:
    amount: str | None = None
    if outcome.value:
        if outcome.value_kind == ValueKind.CASH:
            amount = minor_to_decimal_string(outcome.value, outcome.currency)
        else:
            amount = str(outcome.value)
    return {
        "rule": outcome.rule.name if outcome.rule_id else None,
        "result": outcome.result,
        "value_kind": outcome.value_kind,
        "amount": amount,
        "currency": outcome.currency if outcome.value_kind == ValueKind.CASH else "",
    }


def _event_body(report: ActionReport, event_id: str, outcomes: list[Any]) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "action": report.action,
        "occurred_at": api_datetime(report.occurred_at),
        "outcomes": [outcome_body(outcome) for outcome in outcomes],
    }


class EventsApi(PartnerApi):
    @extend_schema(
        operation_id="partner_events_create",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=EventSerializer,
        responses={
            201: OpenApiResponse(EventResponseSerializer, description="The action is recorded; what it earned."),
            200: OpenApiResponse(EventResponseSerializer, description="This event id was reported before."),
            400: OpenApiResponse(description="Invalid event (fields), or no Idempotency-Key."),
            404: OpenApiResponse(description="customer_not_found"),
            409: OpenApiResponse(description="idempotency_conflict or action_already_reported"),
        },
    )
    def post(self, request: Request) -> Response:
        """Report an action a member did (a survey completed, a social share); your programme's action
        rules decide what it earns, each within its limit and schedule."""
        merchant = self.merchant
        serializer = EventSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = serializer.validated_data

        def report() -> tuple[int, dict[str, Any]]:
            user = customer_match(
                merchant=merchant,
                source=CustomerLink.Source.PARTNER,
                external_id=event["customer"].get("reference", ""),
                email=event["customer"].get("email", ""),
            )
            if user is None:
                raise CustomerNotFoundError()
            brand_owner = BrandOwner.objects.filter(merchant=merchant).first()
            result = actions.action_report(
                user=user,
                action=event["action"],
                source=ActionReport.Source.PARTNER,
                origin=f"partner:{merchant.pk}",
                source_key=event["event_id"],
                occurred_at=event.get("occurred_at") or timezone.now(),
                brand_owner_ids=[brand_owner.pk] if brand_owner else [],
                merchant=merchant,
                description=event["description"],
            )
            code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
            return code, _event_body(result.report, event["event_id"], result.outcomes)

        return idempotent_response(request, report)
