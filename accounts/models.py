from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.time_zones import validate_time_zone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self, email: str | None = None, password: str | None = None, *, phone: str | None = None, **extra_fields
    ) -> "User":
        if not email and not phone:
            raise ValueError("A user needs an email address or a phone number.")
        user = self.model(email=self.normalize_email(email) if email else None, phone=phone or None, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: consumer, merchant staff or platform staff. Logs in by email or phone number."""

    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")
        UNDISCLOSED = "undisclosed", _("Prefer not to say")

    email = models.EmailField("email address", unique=True, null=True, blank=True)
    phone = models.CharField(
        "phone number", max_length=20, unique=True, null=True, blank=True, help_text="E.164, e.g. +4791234567"
    )
    phone_verified = models.BooleanField(default=False)
    full_name = models.CharField(max_length=150, blank=True)

    # Optional profile fields used for campaign segmentation.
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    # The day itself, for a birthday greeting or reward (programmes' birthday rule); optional.
    birth_date = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=16, choices=Gender.choices, blank=True)
    city = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, blank=True)
    # An IANA name (Europe/Oslo); blank keeps settings.TIME_ZONE. Activated by PersonalLocaleMiddleware.
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])

    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Set when the person closed their account: the row stays as an anonymised shell (no e-mail,
    # phone or name) so the ledger and the merchants' figures keep their owner. docs/privacy.md.
    erased_at = models.DateTimeField(null=True, blank=True)
    # Set while staff have blocked the person (accounts.blocking): they earn nothing new, cannot pay
    # out, donate or spend, and their pending rewards wait. The history is in UserBlockEvent.
    blocked_at = models.DateTimeField(null=True, blank=True)
    blocked_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["id"]
        permissions = [("block_user", "Can block and unblock people")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email__isnull=False)
                | models.Q(phone__isnull=False)
                | models.Q(erased_at__isnull=False),
                name="user_has_email_or_phone",
            ),
            models.CheckConstraint(condition=~models.Q(email=""), name="user_email_not_blank"),
            models.CheckConstraint(
                condition=models.Q(phone__isnull=True) | models.Q(phone__regex=r"^\+[1-9][0-9]{5,14}$"),
                name="user_phone_e164",
            ),
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(blocked_at__isnull=False) | models.Q(blocked_reason=""),
                name="user_block_reason_only_when_blocked",
            ),
            models.CheckConstraint(
                condition=models.Q(birth_year__isnull=True) | models.Q(birth_year__gte=1900, birth_year__lte=2100),
                name="user_birth_year_plausible",
            ),
        ]

    def __str__(self) -> str:
        if self.erased_at is not None:
            return f"erased user {self.pk}"
        return self.email or self.phone or f"user {self.pk}"

    def clean(self) -> None:
        # Forms hand over "" for an empty field; unique columns need NULL for "none".
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email) if self.email else None
        self.phone = self.phone or None

    def get_full_name(self) -> str:
        return self.full_name or str(self)

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else str(self)

    @property
    def is_blocked(self) -> bool:
        return self.blocked_at is not None


class UserBlockEvent(models.Model):
    """One block or unblock of a person by staff, kept as history (accounts.blocking)."""

    class Action(models.TextChoices):
        BLOCK = "block", _("Blocked")
        UNBLOCK = "unblock", _("Unblocked")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="block_events")
    action = models.CharField(max_length=8, choices=Action.choices)
    reason = models.CharField(max_length=300)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="userblockevent_user_recent")]
        constraints = [models.CheckConstraint(condition=~models.Q(reason=""), name="userblockevent_reason_given")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} user {self.user_id}"


class StaffInvitation(models.Model):
    """An invitation staff sent to a person whose account they created (F-A2): a link with a
    single-use token, valid until ``expires_at``; accepting it sets the password. The token is the
    row's id and ``nonce`` signed with SECRET_KEY, so the table alone cannot be used to log in and
    a task given the id can rebuild the link (adminpanel.invitations)."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations")
    nonce = models.CharField(max_length=32)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"invitation {self.pk} of user {self.user_id} by {self.channel}"


class Consent(models.Model):
    """One consent decision, kept as history: the latest row per kind is the one in force."""

    class Kind(models.TextChoices):
        TERMS = "terms", _("Terms of service")
        MARKETING = "marketing", _("Marketing")
        # Position reports from the app (geofencing's nearby-offer pushes, docs/geofencing.md).
        LOCATION = "location", _("Location")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    version = models.CharField(max_length=32)
    granted = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "kind", "-created_at"])]
        constraints = [models.CheckConstraint(condition=~models.Q(version=""), name="consent_version_not_blank")]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} v{self.version}: {'granted' if self.granted else 'withdrawn'}"


class Card(models.Model):
    """A payment card a consumer linked, known only by the card network's token.

    Never a full card number: the network token, the first six and last four digits, the expiry
    and the scheme are all the platform keeps (F-A4). A token belongs to one user at most, for
    good: removing a card keeps the row (status ``removed``), so the same card cannot be linked
    by someone else later, and relinking it by its owner reactivates the row.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REMOVED = "removed", _("Removed")

    class Scheme(models.TextChoices):
        VISA = "visa", _("Visa")
        MASTERCARD = "mastercard", _("Mastercard")
        AMEX = "amex", _("American Express")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cards")
    network_token = models.CharField(max_length=128, unique=True)
    first_six = models.CharField(max_length=6)
    last_four = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    scheme = models.CharField(max_length=16, choices=Scheme.choices, default=Scheme.VISA)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "status"], name="accounts_card_user_status_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(first_six__regex=r"^[0-9]{6}$"), name="card_first_six_digits"),
            models.CheckConstraint(condition=models.Q(last_four__regex=r"^[0-9]{4}$"), name="card_last_four_digits"),
            models.CheckConstraint(condition=models.Q(exp_month__gte=1, exp_month__lte=12), name="card_exp_month"),
            models.CheckConstraint(condition=models.Q(exp_year__gte=2000, exp_year__lte=2100), name="card_exp_year"),
            models.CheckConstraint(condition=~models.Q(network_token=""), name="card_token_not_blank"),
            models.CheckConstraint(
                condition=models.Q(status="active", removed_at__isnull=True)
                | models.Q(status="removed", removed_at__isnull=False),
                name="card_status_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} •••• {self.last_four}"

    @property
    def masked_number(self) -> str:
        return f"{self.first_six[:4]} {self.first_six[4:]}•• •••• {self.last_four}"

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year % 100:02d}"


def _export_path(export: "DataExport", filename: str) -> str:
    return f"exports/{export.user_id}/{export.pk}/{filename}"


class DataExport(models.Model):
    """One "download my data" request: built by a task (``accounts.data_export``), offered until
    ``expires_at``, then its file is deleted by the beat sweep. docs/privacy.md."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Being prepared")
        READY = "ready", _("Ready to download")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    percent = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=100, blank=True, help_text="The section being written now.")
    file = models.FileField(upload_to=_export_path, max_length=255, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One export at a time per person: starting again while one runs returns that one.
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status__in=["queued", "running"]), name="dataexport_one_running"
            ),
            models.CheckConstraint(condition=models.Q(percent__lte=100), name="dataexport_percent_at_most_100"),
            models.CheckConstraint(
                condition=~models.Q(status="ready") | models.Q(ready_at__isnull=False, expires_at__isnull=False),
                name="dataexport_ready_has_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"data export {self.pk} of user {self.user_id}: {self.status}"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def is_downloadable(self) -> bool:
        """Ready and not past its expiry (the sweep may not have run yet)."""
        return self.status == self.Status.READY and self.expires_at is not None and self.expires_at > timezone.now()


class AuditRecord(models.Model):
    """Append-only record of a platform-wide action staff must be able to look back on (today: an
    account closed by its owner). Never names the person: ``subject`` points at the anonymised shell.
    Small on purpose, so the admin panel's audit pages can grow it."""

    class Action(models.TextChoices):
        ACCOUNT_ERASED = "account_erased", _("Account closed and personal data erased")

    action = models.CharField(max_length=32, choices=Action.choices)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who did it: "self" (the person), or a staff member's id in ``details``; never a name or address.
    actor_kind = models.CharField(max_length=16, default="self")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["action", "-created_at"], name="auditrecord_action_recent")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} (user {self.subject_id})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Audit records are append-only.")
        super().save(*args, **kwargs)


class StaffAuditEntry(models.Model):
    """One staff action in the staff panel, for the one audit log at /staff/audit/ (F-X7).

    Append-only: written by ``accounts.staff_audit.record_staff_action`` in the action's own
    transaction, never changed or deleted (a PostgreSQL trigger refuses UPDATE and DELETE). An entry
    names objects by type and id, never by a person's name, e-mail or phone, so erasing a person
    leaves nothing of them here to redact.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The actor's staff role(s) when they acted ("administrator", "finance, support"); roles change later.
    actor_role = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at"], name="staffaudit_recent"),
            models.Index(fields=["action", "-created_at"], name="staffaudit_action_recent"),
            models.Index(fields=["target_type", "target_id"], name="staffaudit_target"),
            models.Index(fields=["actor", "-created_at"], name="staffaudit_actor_recent"),
        ]
        permissions = [("export_staffauditentry", "Can export the staff audit log")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Staff audit entries are append-only.")
        super().save(*args, **kwargs)


class Device(models.Model):
    """A phone that receives push messages: its FCM registration token (Android and iOS alike).

    A token belongs to one device and one person at a time: registering it again moves it.
    Tokens that FCM reports as dead are deleted (notifications.channels).
    """

    class Platform(models.TextChoices):
        ANDROID = "android", _("Android")
        IOS = "ios", _("iOS")

    MAX_TOKEN_LENGTH = 4096

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices")
    token = models.CharField(max_length=MAX_TOKEN_LENGTH, unique=True)
    platform = models.CharField(max_length=16, choices=Platform.choices)
    app_version = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [models.CheckConstraint(condition=~models.Q(token=""), name="device_token_not_blank")]

    def __str__(self) -> str:
        return f"{self.user} {self.platform} …{self.token[-6:]}"
