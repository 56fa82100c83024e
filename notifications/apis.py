"""The inbox and the preferences for the mobile app: ``/api/v1/notifications/`` and its ``preferences/``."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.request_types import AuthenticatedRequest
from cashback.openapi import error_response
from cashback.pagination import StandardPagination
from notifications import selectors, services
from notifications.serializers import (
    MarkReadAnswerSerializer,
    MarkReadSerializer,
    NotificationSerializer,
    PreferencesAnswerSerializer,
    PreferencesSerializer,
    preferences_data,
)


class NotificationsApi(APIView):
    """The inbox, newest first, with the unread count."""

    pagination_class = StandardPagination

    @extend_schema(operation_id="notifications_list", responses=NotificationSerializer(many=True))
    def get(self, request: AuthenticatedRequest) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.notifications_for(user=request.user), request, view=self)
        response = paginator.get_paginated_response(NotificationSerializer(page, many=True).data)
        response.data["unread_count"] = selectors.unread_count(user=request.user)
        return response


class NotificationsReadApi(APIView):
    """Mark messages read: ``{"ids": [..]}`` or ``{"all": true}``."""

    @extend_schema(
        operation_id="notifications_mark_read",
        request=MarkReadSerializer,
        responses={200: MarkReadAnswerSerializer, 400: error_response("Neither `ids` nor `all: true`.")},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids = None if serializer.validated_data["all"] else serializer.validated_data["ids"]
        marked = services.notifications_mark_read(user=request.user, notification_ids=ids)
        return Response({"marked": marked, "unread_count": selectors.unread_count(user=request.user)})


class NotificationReadApi(APIView):
    """Mark one message read."""

    @extend_schema(operation_id="notification_mark_read", request=None, responses={200: MarkReadAnswerSerializer})
    def post(self, request: AuthenticatedRequest, notification_id: int) -> Response:
        marked = services.notifications_mark_read(user=request.user, notification_ids=[notification_id])
        return Response({"marked": marked, "unread_count": selectors.unread_count(user=request.user)})


class PreferencesApi(APIView):
    """Each kind and channel, quiet hours, and the marketing and location consents."""

    @extend_schema(operation_id="notification_preferences_get", responses={200: PreferencesAnswerSerializer})
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(preferences_data(selectors.preferences_of(user=request.user)))

    @extend_schema(
        operation_id="notification_preferences_put",
        request=PreferencesSerializer,
        responses={
            200: PreferencesAnswerSerializer,
            400: error_response("An unknown kind or channel, quiet hours that do not parse."),
        },
    )
    def put(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        serializer = PreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.preferences_save(user=request.user, **serializer.save_arguments())
        return Response(preferences_data(selectors.preferences_of(user=request.user)))
