"""The one pagination of the API's lists: ``?page=N&page_size=M``, answered as
``{"count", "next", "previous", "results"}``.

A page or page size that is not a whole number in range is refused (400 ``invalid``, the field
named in ``fields``), never ignored: an app that asks for 500 rows and silently gets 100 would
page wrongly. The schema says the same (``get_schema_operation_parameters``).

A view that paginates by hand (an ``APIView`` that is not a ``ListAPIView``) sets
``pagination_class = StandardPagination`` and uses ``self.pagination_class()``: the schema then
documents its list as paginated (cashback/openapi.py).
"""

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

MAX_PAGE_SIZE = 100


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False)


class StandardPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()  # ?page=last is not offered: the schema's page is a number

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        asked = {key: request.query_params[key] for key in ("page", "page_size") if key in request.query_params}
        query = PageQuerySerializer(data=asked)
        query.is_valid(raise_exception=True)
        self._page_number = query.validated_data.get("page", 1)
        self._page_size = query.validated_data.get("page_size", self.page_size)
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            last = self.django_paginator_class(queryset, self._page_size).num_pages
            raise ValidationError({"page": [f"There is no page {self._page_number}: the last is {last}."]}) from None

    def get_page_size(self, request: Request) -> int:
        return self._page_size

    def get_page_number(self, request: Request, paginator: Any) -> int:
        return self._page_number

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": MAX_PAGE_SIZE},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
