from django.conf import settings
from django.db import models


class Notification(models.Model):
    """One message in a consumer's inbox; e-mailed too when the user has an address."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40, help_text="What it is about, e.g. reward_expiry_warning.")
    title = models.CharField(max_length=160)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    # Set when the same fact must not be told twice (a replayed task): unique per user. NULL, not
    # "", for messages without one, so the unique constraint leaves them alone.
    dedupe_key = models.CharField(max_length=160, null=True, blank=True)  # noqa: DJ001
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="notification_user_recent")]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="notifications_once_per_key"),
        ]

    def __str__(self) -> str:
        return self.title
