from django.conf import settings
from django.db import models


class NearbyPush(models.Model):
    """A "nearby offer" push claimed for a consumer at a shop on a (local) day: at most one, held by the
    unique constraint, so concurrent reports from the same phone send one push (docs/geofencing.md).

    The report only claims (one statement); the task ``geofencing.tasks.nearby_push_send`` writes the
    notification from the claim, once (``notification`` set in the same transaction), and sends it.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nearby_pushes")
    location = models.ForeignKey("merchants.Location", on_delete=models.CASCADE, related_name="nearby_pushes")
    day = models.DateField()
    # The offer the push names: the first usable one at that shop when the report claimed it.
    offer = models.ForeignKey("campaigns.Offer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Set by the task with the notification it wrote; NULL until then (the sweep re-enqueues those).
    notification = models.OneToOneField(
        "notifications.Notification", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "location", "day"], name="nearby_push_once_per_shop_per_day")
        ]
        indexes = [
            models.Index(
                fields=["created_at"], name="nearby_push_unsent", condition=models.Q(notification__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} at {self.location_id} on {self.day}"
