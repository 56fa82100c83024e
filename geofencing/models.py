from django.conf import settings
from django.db import models


class NearbyPush(models.Model):
    """A "nearby offer" push sent to a consumer for a shop on a (local) day: at most one, held by the
    unique constraint, so concurrent reports from the same phone send one push (docs/geofencing.md)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nearby_pushes")
    location = models.ForeignKey("merchants.Location", on_delete=models.CASCADE, related_name="nearby_pushes")
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "location", "day"], name="nearby_push_once_per_shop_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} at {self.location_id} on {self.day}"
