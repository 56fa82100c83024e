from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.serializers import MeSerializer


class MeApi(APIView):
    """The signed-in consumer's profile and the consents in force."""

    def _response(self, request: Request) -> Response:
        user = request.user
        serializer = MeSerializer(user, context={"consents": selectors.consents_in_force(user=user)})
        return Response(serializer.data)

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return self._response(request)

    @extend_schema(request=MeSerializer, responses=MeSerializer)
    def patch(self, request: Request) -> Response:
        serializer = MeSerializer(request.user, data=request.data, partial=True, context={"consents": []})
        serializer.is_valid(raise_exception=True)
        services.profile_update(user=request.user, **serializer.validated_data)
        return self._response(request)
