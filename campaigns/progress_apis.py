"""/api/v1/challenges/ and /api/v1/me/tier/: the consumer's challenge progress and tier, thin doors onto
``progress_selectors`` and ``tier_selectors`` (the same reads as the web wallet)."""

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.request_types import AuthenticatedRequest
from campaigns import progress_selectors, tier_selectors
from campaigns.models import Challenge
from campaigns.progress_serializers import ChallengeProgressSerializer, TierStandingSerializer
from cashback.openapi import error_response

NOT_SIGNED_IN = error_response("not_authenticated: no valid session token or cookie.")


class ChallengesApi(ListAPIView):
    """Every challenge the consumer takes part in (progress or a bonus in it, or live now), running
    ones first (the soonest to end first), then the ended ones; only the caller's own progress."""

    serializer_class = ChallengeProgressSerializer
    # IsAuthenticated (the default permission) runs before get_queryset.
    request: AuthenticatedRequest

    def get_queryset(self) -> QuerySet[Challenge]:
        return progress_selectors.challenges_taken_part(user=self.request.user, now=self.now)

    @extend_schema(
        operation_id="challenges_list",
        responses={
            200: ChallengeProgressSerializer(many=True),
            400: error_response("invalid: a page_size that is not a whole number from 1."),
            401: NOT_SIGNED_IN,
            404: error_response("not_found: a page that does not exist."),
        },
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        self.now = timezone.now()
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # None only without a page size; PAGE_SIZE is set
        views = progress_selectors.progress_views(page, now=self.now)
        return self.get_paginated_response(self.get_serializer(views, many=True).data)


class MyTierApi(GenericAPIView):
    """The consumer's tier, its cashback multiplier, and what the next tier needs (or that this is the top)."""

    serializer_class = TierStandingSerializer
    pagination_class = None
    request: AuthenticatedRequest

    @extend_schema(operation_id="me_tier_retrieve", responses={200: TierStandingSerializer, 401: NOT_SIGNED_IN})
    def get(self, request: Request) -> Response:
        standing = tier_selectors.tier_standing(user=self.request.user)
        return Response(self.get_serializer(standing).data)
