"""The insights pages' date range: a preset (7, 30, 90 days, this year) or custom days, and the bucket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cashback.forms import GuardedForm
from insights.selectors import BUCKETS, Bucket

PRESETS = [
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("year", "This year"),
    ("custom", "Custom"),
]
BUCKET_CHOICES = [("auto", "Automatic"), ("day", "Day"), ("week", "Week"), ("month", "Month")]
DEFAULT_PRESET = "30"


def max_range_days() -> int:
    return int(getattr(settings, "INSIGHTS_MAX_RANGE_DAYS", 400))


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    bucket: Bucket

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def automatic_bucket(days: int) -> Bucket:
    """Days up to 6 weeks, weeks up to half a year, months beyond: 6 to 60 points on a chart."""
    if days <= 42:
        return "day"
    if days <= 183:
        return "week"
    return "month"


class RangeForm(GuardedForm):
    """Bad input (an end before the start, a range over ``INSIGHTS_MAX_RANGE_DAYS``, dates that are not
    dates, unknown choices) is a form error, never a 500."""

    preset = forms.ChoiceField(label=_("Period"), choices=PRESETS, initial=DEFAULT_PRESET, required=False)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    bucket = forms.ChoiceField(label=_("Show by"), choices=BUCKET_CHOICES, initial="auto", required=False)

    def __init__(self, *args: object, today: date, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # Form's own signature
        self.today = today

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        preset = data.get("preset") or ("custom" if data.get("start") or data.get("end") else DEFAULT_PRESET)
        if preset == "custom":
            start, end = data.get("start"), data.get("end")
            if not isinstance(start, date) and "start" not in self.errors:
                self.add_error("start", _("Choose the first day."))
            if not isinstance(end, date) and "end" not in self.errors:
                self.add_error("end", _("Choose the last day."))
            if isinstance(start, date) and isinstance(end, date):
                if end < start:
                    self.add_error("end", _("The last day is before the first day."))
                elif (end - start).days + 1 > max_range_days():
                    self.add_error(
                        "end", _("Choose at most %(max_range_days)s days.") % {"max_range_days": max_range_days()}
                    )
        elif preset == "year":
            start, end = self.today.replace(month=1, day=1), self.today
        else:
            end = self.today
            start = end - timedelta(days=int(preset) - 1)
        data["preset"] = preset
        if not self.errors:
            data["start"], data["end"] = start, end
        return data

    def period(self) -> Period:
        """The chosen range; call after ``is_valid()``."""
        start, end = self.cleaned_data["start"], self.cleaned_data["end"]
        chosen = self.cleaned_data.get("bucket") or "auto"
        bucket = automatic_bucket((end - start).days + 1)
        for name in BUCKETS:  # a checked choice, narrowed for the type checker
            if chosen == name:
                bucket = name
        return Period(start=start, end=end, bucket=bucket)
