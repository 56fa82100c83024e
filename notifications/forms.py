from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cashback.forms import GuardedForm
from notifications.kinds import KINDS, Channel


def field_name(kind: str, channel: str) -> str:
    return f"{kind}__{channel}"


class PreferencesForm(GuardedForm):
    """One checkbox per kind and channel, quiet hours, and the two consents."""

    quiet_start = forms.TimeField(
        label=_("Quiet from"),
        required=False,
        input_formats=["%H:%M"],
        widget=forms.TimeInput({"type": "time"}, "%H:%M"),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet until"),
        required=False,
        input_formats=["%H:%M"],
        widget=forms.TimeInput({"type": "time"}, "%H:%M"),
    )
    marketing_consent = forms.BooleanField(label=_("Send me news and offers (marketing)"), required=False)
    location_consent = forms.BooleanField(label=_("Use my position for offers near me"), required=False)

    def __init__(self, data: Any = None, *, preferences: dict[str, Any]) -> None:
        quiet = preferences["quiet_hours"]
        initial = {
            "quiet_start": quiet["start"] if quiet else None,
            "quiet_end": quiet["end"] if quiet else None,
            "marketing_consent": preferences["marketing_consent"],
            "location_consent": preferences["location_consent"],
        }
        for row in preferences["kinds"]:
            for channel, enabled in row["channels"].items():
                initial[field_name(row["kind"], channel)] = enabled
        super().__init__(data, initial=initial)
        for kind in KINDS:
            for channel in Channel:
                self.fields[field_name(kind, channel)] = forms.BooleanField(
                    label=f"{KINDS[kind].label}: {channel.label}", required=False
                )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if (start is None) != (end is None):
            self.add_error("quiet_end", _("Give both times, or neither."))
        elif start is not None and start == end:
            self.add_error("quiet_end", _("Quiet hours must end at another time than they start."))
        return data

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"label": spec.label, "fields": [(self[field_name(kind, channel)], channel.label) for channel in Channel]}
            for kind, spec in KINDS.items()
        ]

    def save_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        start, end = data.get("quiet_start"), data.get("quiet_end")
        return {
            "choices": {
                kind: {channel: bool(data.get(field_name(kind, channel))) for channel in Channel.values}
                for kind in KINDS
            },
            "quiet_hours": (start, end) if start is not None and end is not None else None,
            "marketing_consent": bool(data.get("marketing_consent")),
            "location_consent": bool(data.get("location_consent")),
        }
