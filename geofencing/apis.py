"""``GET /api/v1/offers/``: live offers near a point for the mobile app, with this consumer's eligibility."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from accounts.request_types import AuthenticatedRequest
from cashback.openapi import error_response
from geofencing.selectors import MAX_RADIUS_KM, NearbyPage, nearby_offers, page_eligibility
from geofencing.serializers import (
    NearbyOfferPageSerializer,
    NearbyOfferSerializer,
    NearbyQuerySerializer,
)


class NearbyOffersApi(APIView):
    """Live offers near a point, nearest first, each with its terms, its shops and whether you qualify."""

    @extend_schema(
        operation_id="offers_list",
        parameters=[NearbyQuerySerializer],
        responses={
            200: NearbyOfferPageSerializer,
            400: OpenApiResponse(
                description=f"`lat` or `lng` missing, not a number or out of range; `radius_km` not above 0 or above"
                f" {MAX_RADIUS_KM}; an unknown `category`; a bad `merchant`, `page` or `page_size`.",
            ),
            401: error_response("Not signed in."),
            403: error_response("Not signed in (session cookie without a token)."),
        },
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        query = NearbyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        at = timezone.now()
        page = nearby_offers(
            search=query.search(), page=query.validated_data["page"], page_size=query.validated_data["page_size"], at=at
        )
        eligibility = page_eligibility(user=request.user, page=page, at=at)
        results = NearbyOfferSerializer(page.offers, many=True, context={"eligibility": eligibility}).data
        return Response({**_links(request, page), "results": results})


def _links(request: AuthenticatedRequest, page: NearbyPage) -> dict[str, str | None]:
    url = request.build_absolute_uri()
    following = replace_query_param(url, "page", page.page + 1) if page.has_next else None
    if page.page <= 1:
        preceding = None
    elif page.page == 2:
        preceding = remove_query_param(url, "page")
    else:
        preceding = replace_query_param(url, "page", page.page - 1)
    return {"next": following, "previous": preceding}
