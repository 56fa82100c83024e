from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.request_types import AuthenticatedRequest
from wallet import selectors
from wallet.models import Entry
from wallet.serializers import EntryFilterSerializer, EntrySerializer, WalletSerializer


class WalletApi(APIView):
    """The signed-in consumer's balances per currency."""

    @extend_schema(operation_id="wallet_retrieve", responses=WalletSerializer)
    def get(self, request: AuthenticatedRequest) -> Response:
        balances = selectors.wallet_balances(user=request.user)
        return Response(WalletSerializer({"balances": balances}).data)


class WalletEntriesApi(ListAPIView):
    """The signed-in consumer's movements, newest first, paginated."""

    serializer_class = EntrySerializer
    # IsAuthenticated (the default permission) runs before get_queryset.
    request: AuthenticatedRequest

    def get_queryset(self) -> QuerySet[Entry]:
        filters = EntryFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.wallet_entries(user=self.request.user, **filters.validated_data)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None  # None only when no page size is set; settings set PAGE_SIZE
        # Shop and offer names come from the apps that own them (registered providers).
        context = {**self.get_serializer_context(), "causes": selectors.entry_contexts(entries=page)}
        return self.get_paginated_response(self.get_serializer(page, many=True, context=context).data)

    @extend_schema(
        operation_id="wallet_entries_list",
        parameters=[EntryFilterSerializer],
        responses={200: EntrySerializer(many=True), 400: OpenApiResponse(description="Invalid filter.")},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
