from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView, RetrieveAPIView

from accounts.request_types import AuthenticatedRequest
from campaigns import selectors
from campaigns.models import Purchase
from campaigns.serializers import PurchaseSerializer


class PurchasesApi(ListAPIView):
    """The signed-in consumer's purchases, newest first, each with what it earned or why not."""

    serializer_class = PurchaseSerializer
    # IsAuthenticated (the default permission) runs before get_queryset/get_object.
    request: AuthenticatedRequest

    def get_queryset(self) -> QuerySet[Purchase]:
        return selectors.purchases_of(user=self.request.user)

    @extend_schema(operation_id="purchases_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PurchaseDetailApi(RetrieveAPIView):
    """One of the consumer's purchases; another consumer's is 404."""

    serializer_class = PurchaseSerializer
    # IsAuthenticated (the default permission) runs before get_queryset/get_object.
    request: AuthenticatedRequest

    def get_object(self) -> Purchase:
        return selectors.purchase_of(user=self.request.user, purchase_id=self.kwargs["purchase_id"])

    @extend_schema(operation_id="purchases_retrieve")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
