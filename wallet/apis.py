from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wallet import selectors
from wallet.models import Entry
from wallet.serializers import EntryFilterSerializer, EntrySerializer, WalletSerializer


def _cause_contexts(entries) -> dict:
    """Shop and offer names for the page's entries caused by purchases and offers (campaigns' reads)."""
    from campaigns.selectors import purchase_contexts

    causes = [entry.transaction.causes or {} for entry in entries]
    return purchase_contexts(
        purchase_ids=[c["purchase"] for c in causes if isinstance(c.get("purchase"), int)],
        offer_ids=[c["offer"] for c in causes if isinstance(c.get("offer"), int)],
    )


class WalletApi(APIView):
    """The signed-in consumer's balances per currency."""

    @extend_schema(operation_id="wallet_retrieve", responses=WalletSerializer)
    def get(self, request: Request) -> Response:
        balances = selectors.wallet_balances(user=request.user)
        return Response(WalletSerializer({"balances": balances}).data)


class WalletEntriesApi(ListAPIView):
    """The signed-in consumer's movements, newest first, paginated."""

    serializer_class = EntrySerializer

    def get_queryset(self) -> QuerySet[Entry]:
        filters = EntryFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.wallet_entries(user=self.request.user, **filters.validated_data)

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = self.get_serializer_context()
        context["causes"] = _cause_contexts(page)
        return self.get_paginated_response(self.get_serializer(page, many=True, context=context).data)

    @extend_schema(
        operation_id="wallet_entries_list",
        parameters=[EntryFilterSerializer],
        responses={200: EntrySerializer(many=True), 400: OpenApiResponse(description="Invalid filter.")},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)
