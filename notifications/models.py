from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
    # The values its messages are written from (notifications.kinds), rendered per channel at sending.
    context = models.JSONField(default=dict, blank=True)
    # False when the person switched the inbox off for this kind: the row still holds the key and
    # the other channels' deliveries, but the inbox does not list it.
    in_inbox = models.BooleanField(default=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_recent"),
            models.Index(
                fields=["user"],
                name="notification_user_unread",
                condition=models.Q(read_at__isnull=True, in_inbox=True),
            ),
        ]
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


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class Delivery(models.Model):
    """One channel's attempt at one notification: at most one per channel (the unique constraint),
    sent once, retried on a provider's temporary error, failed for good on a permanent one."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=[("email", "E-mail"), ("sms", "SMS"), ("push", "Push")])
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    # When a pending delivery is next due (after a temporary error, or at the end of quiet hours);
    # the beat sweep notifications.tasks.deliveries_due sends it again then.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["notification_id", "channel"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="notification_delivery_once_per_channel")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="notif_delivery_pending", condition=models.Q(status="pending")
            )
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.channel}: {self.status}"


class Preference(models.Model):
    """A person's choice for one kind on one channel; without a row the kind's default holds."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=40)
    channel = models.CharField(max_length=8)
    enabled = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id", "kind", "channel"]
        constraints = [models.UniqueConstraint(fields=["user", "kind", "channel"], name="notification_preference_once")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}/{self.channel}: {'on' if self.enabled else 'off'}"


class QuietHours(models.Model):
    """When push and SMS hold back (in settings.TIME_ZONE); ``start`` after ``end`` spans midnight."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiet_hours")
    start = models.TimeField()
    end = models.TimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id"]
        verbose_name_plural = "quiet hours"
        constraints = [models.CheckConstraint(condition=~models.Q(start=models.F("end")), name="quiet_hours_not_empty")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.start:%H:%M}-{self.end:%H:%M}"
