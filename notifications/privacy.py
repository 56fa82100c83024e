"""The person's inbox, for "download my data"; closing the account deletes it (F-A5)."""

from accounts.models import User
from accounts.privacy_registry import Eraser, ExportSection, Row, eraser_register, section_register
from notifications.models import Notification, Preference, QuietHours


def _notifications(user: User) -> list[Row]:
    return [
        {
            "at": notification.created_at,
            "kind": notification.kind,
            "title": notification.title,
            "body": notification.body,
            "read_at": notification.read_at,
            "emailed_at": notification.emailed_at,
        }
        for notification in Notification.objects.filter(user=user).order_by("created_at", "id")
    ]


def _preferences(user: User) -> list[Row]:
    rows: list[Row] = [
        {"kind": preference.kind, "channel": preference.channel, "enabled": preference.enabled}
        for preference in Preference.objects.filter(user=user).order_by("kind", "channel")
    ]
    quiet = QuietHours.objects.filter(user=user).first()
    if quiet is not None:
        rows.append({"kind": "quiet_hours", "channel": f"{quiet.start:%H:%M}-{quiet.end:%H:%M}", "enabled": True})
    return rows


def _erase(user: User) -> dict[str, int]:
    return {
        "notifications_removed": Notification.objects.filter(user=user).delete()[0],
        "preferences_removed": Preference.objects.filter(user=user).delete()[0]
        + QuietHours.objects.filter(user=user).delete()[0],
    }


def register() -> None:
    section_register(
        ExportSection(
            name="notifications",
            title="Notifications",
            description="The messages in your inbox (and when they were e-mailed).",
            rows=_notifications,
            covers=("notifications.Notification.user",),
            order=60,
        )
    )
    section_register(
        ExportSection(
            name="notification_preferences",
            title="Notification preferences",
            description="Your choices per kind of message and channel, and your quiet hours.",
            rows=_preferences,
            covers=("notifications.Preference.user", "notifications.QuietHours.user"),
            order=61,
        )
    )
    eraser_register(Eraser(name="notifications", erase=_erase, order=60))
