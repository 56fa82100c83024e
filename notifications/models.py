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


class OutgoingEmail(models.Model):
    """One e-mail to an address that need not be a user's (a merchant's contact, an invitee), queued
    in the transaction of the change it tells of and sent by a task after commit, once per key.

    A failed send is recorded and retried with backoff; the change it tells of stays committed.
    """

    # What the mail is about, unique: queueing the same key twice sends one message.
    key = models.CharField(max_length=160, unique=True)
    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    # The body carries a secret (an invitation link): it is erased once the mail is sent.
    secret = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    # When a failed send is due for its next automatic attempt, or until when one handed to the
    # broker by the sweep is left alone; null otherwise.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="outgoing_email_unsent_idx", condition=models.Q(sent_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"
