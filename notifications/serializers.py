from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from notifications.kinds import KINDS, Channel
from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ("id", "kind", "title", "body", "url", "created_at", "read_at", "read")

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=500)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError({"ids": ["Give the ids to mark read, or all: true."]})
        return attrs


class QuietHoursSerializer(serializers.Serializer):
    start = serializers.TimeField(format="%H:%M", input_formats=["%H:%M"])
    end = serializers.TimeField(format="%H:%M", input_formats=["%H:%M"])

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["start"] == attrs["end"]:
            raise serializers.ValidationError({"end": ["Quiet hours must end at another time than they start."]})
        return attrs


def validate_choices(value: Any) -> dict[str, dict[str, bool]]:
    """``{"<kind>": {"<channel>": true|false}}``; an unknown kind or channel, or a non-boolean, is refused."""
    if not isinstance(value, dict):
        raise serializers.ValidationError(_("An object of kinds, each an object of channels."))
    errors: list[str] = []
    choices: dict[str, dict[str, bool]] = {}
    for kind, per_channel in value.items():
        if kind not in KINDS:
            errors.append(f"Unknown kind {kind!r}.")
            continue
        if not isinstance(per_channel, dict):
            errors.append(f"{kind}: an object of channels.")
            continue
        for channel, enabled in per_channel.items():
            if channel not in Channel.values:
                errors.append(f"{kind}: unknown channel {channel!r}.")
            elif not isinstance(enabled, bool):
                errors.append(f"{kind}.{channel}: true or false.")
            else:
                choices.setdefault(kind, {})[channel] = enabled
    if errors:
        raise serializers.ValidationError(errors)
    return choices


class PreferencesSerializer(serializers.Serializer):
    kinds = serializers.JSONField(required=False)
    quiet_hours = QuietHoursSerializer(required=False, allow_null=True)
    marketing_consent = serializers.BooleanField(required=False)
    location_consent = serializers.BooleanField(required=False)

    def validate_kinds(self, value: Any) -> dict[str, dict[str, bool]]:
        return validate_choices(value)

    def save_arguments(self) -> dict[str, Any]:
        data = self.validated_data
        arguments: dict[str, Any] = {"choices": data.get("kinds") or {}}
        if "quiet_hours" in data:
            quiet = data["quiet_hours"]
            arguments["quiet_hours"] = (quiet["start"], quiet["end"]) if quiet else None
        for consent in ("marketing_consent", "location_consent"):
            if consent in data:
                arguments[consent] = data[consent]
        return arguments


def preferences_data(preferences: dict[str, Any]) -> dict[str, Any]:
    quiet = preferences["quiet_hours"]
    return {
        **preferences,
        "quiet_hours": {"start": f"{quiet['start']:%H:%M}", "end": f"{quiet['end']:%H:%M}"} if quiet else None,
        "channels": list(Channel.values),
    }


class MarkReadAnswerSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread_count = serializers.IntegerField()


class KindPreferenceSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the key the app reads; DRF pops declared fields, so Field.label is untouched
    group = serializers.CharField()
    channels = serializers.DictField(child=serializers.BooleanField(), help_text="Channel → on or off.")


class QuietHoursAnswerSerializer(serializers.Serializer):
    start = serializers.CharField(help_text="HH:MM")
    end = serializers.CharField(help_text="HH:MM")


class PreferencesAnswerSerializer(serializers.Serializer):
    kinds = KindPreferenceSerializer(many=True)
    quiet_hours = QuietHoursAnswerSerializer(allow_null=True)
    marketing_consent = serializers.BooleanField()
    location_consent = serializers.BooleanField()
    channels = serializers.ListField(child=serializers.CharField())
