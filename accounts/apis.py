from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import privacy_apis, selectors, services
from accounts.request_types import AuthenticatedRequest
from accounts.serializers import CardLinkSerializer, CardSerializer, MeSerializer


class MeApi(APIView):
    """The signed-in consumer's profile and the consents in force."""

    def _response(self, request: AuthenticatedRequest) -> Response:
        user = request.user
        serializer = MeSerializer(user, context={"consents": selectors.consents_in_force(user=user)})
        return Response(serializer.data)

    @extend_schema(responses=MeSerializer)
    def get(self, request: AuthenticatedRequest) -> Response:
        return self._response(request)

    @extend_schema(request=MeSerializer, responses=MeSerializer)
    def patch(self, request: AuthenticatedRequest) -> Response:
        serializer = MeSerializer(request.user, data=request.data, partial=True, context={"consents": []})
        serializer.is_valid(raise_exception=True)
        services.profile_update(user=request.user, **serializer.validated_data)
        return self._response(request)

    @extend_schema(
        operation_id="me_erase",
        request=privacy_apis.ErasureSerializer,
        responses={
            204: None,
            400: OpenApiResponse(description="Wrong password or confirmation (`erasure_not_confirmed`)."),
            409: OpenApiResponse(
                description="Something must be settled first (`erasure_blocked`; `fields.blockers` lists the codes, "
                "e.g. `balance_not_zero`, `payout_in_progress`, `rewards_pending`); or something is lost by closing "
                "and was not acknowledged (`erasure_not_acknowledged`; `fields.acknowledge` lists the codes to send "
                "back in `acknowledge`, e.g. `points_forfeited`)."
            ),
        },
    )
    def delete(self, request: AuthenticatedRequest) -> Response:
        """Close the account: erase the personal data and sign out everywhere (docs/privacy.md)."""
        return privacy_apis.erase_me(request)


class CardsApi(ListAPIView):
    """The consumer's linked cards (GET) and linking a card by its network token (POST)."""

    throttle_scope = "cards"

    serializer_class = CardSerializer
    # A number sent as the token gets CardLinkSerializer's clearer message (card_number_sent).
    card_number_fields = ("token",)
    # IsAuthenticated (the default permission) runs before get_queryset/get_object.
    request: AuthenticatedRequest

    def get_queryset(self):
        return selectors.cards_of(user=self.request.user)

    @extend_schema(operation_id="cards_list", responses=CardSerializer(many=True))
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="cards_link",
        request=CardLinkSerializer,
        responses={
            201: CardSerializer,
            400: OpenApiResponse(description="Invalid or unknown token (`card_token_invalid`)."),
            409: OpenApiResponse(description="The card is linked to another account (`card_linked_to_another_user`)."),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = CardLinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        card = services.card_link(user=request.user, token=serializer.validated_data["token"])
        return Response(CardSerializer(card).data, status=status.HTTP_201_CREATED)


class CardDetailApi(APIView):
    """Remove one of the consumer's cards."""

    @extend_schema(
        operation_id="cards_remove",
        responses={204: None, 404: OpenApiResponse(description="Not one of your cards (`card_not_found`).")},
    )
    def delete(self, request: AuthenticatedRequest, card_id: int) -> Response:
        services.card_remove(user=request.user, card_id=card_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
