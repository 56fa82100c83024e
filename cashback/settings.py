"""Settings for the cashback platform, driven by environment variables.

Every variable read here is listed, with its default, in docs/operations.md.
The defaults are the embedded development setup (SQLite, Celery eager, fake
providers) except where a default would be unsafe in production: DEBUG is off
and SECRET_KEY must be given unless DEBUG is on.
"""

import warnings
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
# With DEBUG on, the house 404 and 500 pages rather than Django's technical ones (make run shows what
# production shows; the traceback still goes to the terminal). False: the technical pages.
HOUSE_ERROR_PAGES = env.bool("HOUSE_ERROR_PAGES", default=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-when-debug-is-on"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# The platform's name as documents (statements) print it.
PLATFORM_NAME = env.str("PLATFORM_NAME", default="Cashback")

# --- Applications -----------------------------------------------------------

INSTALLED_APPS = [
    "cashback.apps.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "leaflet",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
    "allauth.usersessions",
    "cashback",
    "accounts",
    "notifications",
    "wallet",
    "merchants",
    "charity",
    "campaigns",
    "referrals",
    "monitoring",
    "geofencing",
    "insights",
    "programmes",
    "adminpanel",
    "content",
]

MIDDLEWARE = [
    # First: the request id is bound for everything below, and the timing covers the whole chain.
    "cashback.request_ids.RequestIdMiddleware",
    "cashback.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "cashback.middleware.ContentSecurityPolicyMiddleware",
    "cashback.middleware.HouseErrorPagesMiddleware",  # DEBUG on: the house 404/500, under the CSP
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.PersonalLocaleMiddleware",  # the profile's language and time zone
    "cashback.request_guard.RequestGuardMiddleware",  # before anything stores a header (user sessions)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffMfaRequiredMiddleware",
    "accounts.middleware.RateLimitedMiddleware",  # allauth's RateLimited inside a flow: 429, not 500
    "allauth.usersessions.middleware.UserSessionsMiddleware",
]

ROOT_URLCONF = "cashback.urls"
WSGI_APPLICATION = "cashback.wsgi.application"
ASGI_APPLICATION = "cashback.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cashback.context_processors.navigation",
                "cashback.context_processors.languages",
            ],
            # Money, numbers and dates in the active language on every page (cashback/formatting.py).
            "builtins": ["cashback.templatetags.formatting"],
        },
    },
]

# --- Data stores -------------------------------------------------------------

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Statements run through a server-binding cursor (the webhook intake's INSERT, cashback/inbox.py) are
    # prepared after 5 runs on a connection; Django's own cursors bind on the client and never prepare.
    # Off for a PgBouncer in transaction mode without max_prepared_statements (before 1.21).
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
# Reads of the merchant insights and reports (dashboards, exports) may go to a read replica: with
# INSIGHTS_DATABASE_URL set, the "replica" alias; without it, the primary ("default"). docs/insights.md.
if env.str("INSIGHTS_DATABASE_URL", default=""):
    DATABASES["replica"] = env.db_url("INSIGHTS_DATABASE_URL")
    DATABASES["replica"]["ATOMIC_REQUESTS"] = False
INSIGHTS_DATABASE = "replica" if "replica" in DATABASES else "default"
# The longest range the insights dashboard shows at once, in days.
INSIGHTS_MAX_RANGE_DAYS = env.int("INSIGHTS_MAX_RANGE_DAYS", default=400)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication (django-allauth) ----------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "wallet:home"
LOGOUT_REDIRECT_URL = "home"

# Sign-up takes an email address, a phone number or both; accounts.forms.SignupExtraForm (allauth's
# base for the HTML form and the headless input) requires at least one, plus acceptance of the terms.
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
# "mandatory" verification needs an email from everyone, so phone-only sign-up is then turned off.
_EMAIL_SIGNUP_FIELD = "email*" if ACCOUNT_EMAIL_VERIFICATION == "mandatory" else "email"
ACCOUNT_SIGNUP_FIELDS = [_EMAIL_SIGNUP_FIELD, "phone", "password1*", "password2*"]
# accounts' sign-up form with the referral programme's check of a typed code (a string, not an import).
ACCOUNT_SIGNUP_FORM_CLASS = "referrals.forms.ReferralSignupForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"

# --- Account enumeration, password reset by code, allauth's rate limits (issue 13) ---------------
# Sign-up and password reset never say whether an e-mail address or phone number has an account: the
# page says what happens next, and the owner of a taken address gets a mail (of a number, an SMS).
ACCOUNT_PREVENT_ENUMERATION = True
# Password reset by a code, sent by e-mail or, for accounts with a phone number, by SMS
# (accounts/password_reset.py): valid this long, and given up after this many wrong codes.
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = True
ACCOUNT_PASSWORD_RESET_BY_CODE_TIMEOUT = env.int("ACCOUNT_PASSWORD_RESET_BY_CODE_TIMEOUT", default=10 * 60)
ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS = env.int("ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS", default=3)
ACCOUNT_FORMS = {
    "reset_password": "accounts.password_reset.PasswordResetRequestForm",
    # A taken e-mail address gets allauth's enumeration-safe path (accounts/signup_enumeration.py).
    "signup": "accounts.signup_enumeration.EnumerationSafeSignupForm",
}
# allauth's limits per action, written out (allauth's defaults, tighter for what sends an SMS); see
# docs/security.md. "10/m/ip" = 10 a minute per client address; "key" = per e-mail address or number.
# ACCOUNT_RATE_LIMITS=false turns them all off (the test settings and benchmarks do).
ACCOUNT_RATE_LIMITS: dict[str, str] | bool = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/300s/key",
    # A phone sign-up sends an SMS, so fewer than allauth's 20.
    "signup": "10/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/180s/key",
    "change_password": "5/m/user",
    "change_phone": "1/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    "verify_phone": "1/30s/key,3/m/ip",
    "request_login_code": "20/m/ip,3/m/key",
}
if not env.bool("ACCOUNT_RATE_LIMITS", default=True):
    ACCOUNT_RATE_LIMITS = False
# account.W001 wants one login method to be a *required* sign-up field; ours are "either one",
# which allauth cannot express in ACCOUNT_SIGNUP_FIELDS and SignupExtraForm.clean() enforces.
SILENCED_SYSTEM_CHECKS = ["account.W001"]

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Cashback"

HEADLESS_CLIENTS = ("app", "browser")
HEADLESS_ONLY = False
# A session token read in one query, not allauth's two (accounts/authentication.py).
HEADLESS_TOKEN_STRATEGY = "accounts.authentication.OneQuerySessionTokenStrategy"
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": f"{SITE_URL}/accounts/confirm-email/{{key}}/",
    "account_reset_password_from_key": f"{SITE_URL}/accounts/password/reset/key/{{key}}/",
    "account_signup": f"{SITE_URL}/accounts/signup/",
}

# --- Providers (external services behind small interfaces) -----------------

CARD_NETWORK_PROVIDER = env.str("CARD_NETWORK_PROVIDER", default="fake")
# The real card network's token API (used when CARD_NETWORK_PROVIDER=visa).
VISA_API_BASE_URL = env.str("VISA_API_BASE_URL", default="https://sandbox.api.visa.com")
VISA_API_USER_ID = env.str("VISA_API_USER_ID", default="")
VISA_API_PASSWORD = env.str("VISA_API_PASSWORD", default="")
VISA_API_CERT_FILE = env.str("VISA_API_CERT_FILE", default="")
VISA_API_KEY_FILE = env.str("VISA_API_KEY_FILE", default="")
SMS_PROVIDER = env.str("SMS_PROVIDER", default="fake")
GEOCODER_PROVIDER = env.str("GEOCODER_PROVIDER", default="fake")
# Nominatim's usage policy asks every client to identify itself (used when GEOCODER_PROVIDER=nominatim).
GEOCODER_USER_AGENT = env.str("GEOCODER_USER_AGENT", default="cashback-platform/1.0")
PUSH_PROVIDER = env.str("PUSH_PROVIDER", default="fake")
VISA_WEBHOOK_SECRET = env.str("VISA_WEBHOOK_SECRET", default="")
if not VISA_WEBHOOK_SECRET and DEBUG:
    # The embedded demo (`make run`, simulate_purchase) signs with this; production must set its own.
    VISA_WEBHOOK_SECRET = "dev-visa-webhook-secret"
# The secret being rotated out: accepted next to VISA_WEBHOOK_SECRET until the network stops using it.
VISA_WEBHOOK_SECRET_PREVIOUS = env.str("VISA_WEBHOOK_SECRET_PREVIOUS", default="")
# The key of the keyed hash that stands in for identifiers from outside in ledger keys and append-only
# rows (cashback/keyed_ids.py, docs/ledger.md). Set once and never changed: a replay after a change would
# get a new key and be credited again, so there is no "previous" key, and without it (or with
# SECRET_KEY's value) the system checks refuse to start the platform.
EXTERNAL_ID_KEY = env.str("EXTERNAL_ID_KEY", default="")
if not EXTERNAL_ID_KEY and DEBUG:
    EXTERNAL_ID_KEY = "dev-external-id-key"
# Fernet keys that seal short secrets at rest (voucher codes not yet claimed; cashback/sealed_text.py),
# comma-separated: the first seals, all open (rotation: put the new key first, keep the old until resealed).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS and DEBUG:
    FIELD_ENCRYPTION_KEYS = ["ZGV2LWZpZWxkLWVuY3J5cHRpb24ta2V5LTMyLWJ5dGU="]  # development only
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_CONNECT_WEBHOOK_SECRET = env.str("STRIPE_CONNECT_WEBHOOK_SECRET", default="")
# Webhook inbox (cashback/inbox.py): largest accepted body, automatic attempts of a failed event,
# how far back unmatched events are re-processed when a card or shop appears, and after how long
# an event still "received" is enqueued again.
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=256 * 1024)
# Every JSON door (webhooks, /api/, /_allauth/): deepest nesting of objects and arrays accepted
# (400 json_too_deep beyond), and the largest body of the API and headless doors (413 beyond).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=64)
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
# Request headers that some part of the platform stores: a full card number in one is refused
# (cashback/request_guard.py), as in every query value.
CARD_GUARD_HEADERS = ("User-Agent", "Idempotency-Key", "X-Device-Id")
INBOX_MAX_ATTEMPTS = env.int("INBOX_MAX_ATTEMPTS", default=10)
# The outbox of facts (cashback/events.py): automatic attempts per subscriber of a fact, and how long
# a delivery may stay pending before the beat sweep assumes its task was lost and enqueues it again.
FACTS_MAX_ATTEMPTS = env.int("FACTS_MAX_ATTEMPTS", default=10)
FACTS_STALE_PENDING_SECONDS = env.int("FACTS_STALE_PENDING_SECONDS", default=120)
# E-mails to addresses (notifications.OutgoingEmail: merchant review decisions, invitations): automatic
# attempts per mail, and how long one may wait unsent before the sweep assumes its task was lost.
NOTIFICATIONS_EMAIL_MAX_ATTEMPTS = env.int("NOTIFICATIONS_EMAIL_MAX_ATTEMPTS", default=10)
NOTIFICATIONS_EMAIL_STALE_SECONDS = env.int("NOTIFICATIONS_EMAIL_STALE_SECONDS", default=120)
INBOX_UNMATCHED_RETRY_DAYS = env.int("INBOX_UNMATCHED_RETRY_DAYS", default=30)
INBOX_STALE_RECEIVED_SECONDS = env.int("INBOX_STALE_RECEIVED_SECONDS", default=300)
# Raw webhook bodies are kept this many days after receipt, then cut down to the envelope and the
# figures processing used (cashback/webhook_retention.py, daily beat task); open events are never cut.
WEBHOOK_PAYLOAD_RETENTION_DAYS = env.int("WEBHOOK_PAYLOAD_RETENTION_DAYS", default=90)
# Off: a new event is not enqueued when it arrives; the every-minute sweep dispatches it after
# INBOX_STALE_RECEIVED_SECONDS instead (used by bench/webhooks.py to measure intake alone).
INBOX_ENQUEUE_ON_RECEIPT = env.bool("INBOX_ENQUEUE_ON_RECEIPT", default=True)
# How long a web process's publisher waits for more new events before it publishes them as one task
# of at most INBOX_DISPATCH_BATCH events (cashback/dispatch.py).
INBOX_DISPATCH_LINGER_MS = env.int("INBOX_DISPATCH_LINGER_MS", default=50)
INBOX_DISPATCH_BATCH = env.int("INBOX_DISPATCH_BATCH", default=50)
# `stripe` (the SDK) when a secret key is set, otherwise `fake` (no network; see cashback/providers/stripe_gateway.py).
STRIPE_PROVIDER = env.str("STRIPE_PROVIDER", default="stripe" if STRIPE_SECRET_KEY else "fake")
# Another API host for the SDK (stripe-mock, a test stub); empty = Stripe's own.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)

# Merchant billing (docs/billing.md). The platform's commission on the cashback a merchant's offers
# pay, unless the merchant has its own rate (merchants.selectors.commission_rate). django-environ has
# no decimal cast, so the string is parsed here, exactly (never through a float).
PLATFORM_COMMISSION_RATE = Decimal(env.str("PLATFORM_COMMISSION_RATE", default="0.15"))
# An invoice is due this many days after it is issued; it is overdue (and the merchant's live offers
# pause) when it is still unpaid this many days after its due date.
BILLING_PAYMENT_TERMS_DAYS = env.int("BILLING_PAYMENT_TERMS_DAYS", default=14)
BILLING_OVERDUE_GRACE_DAYS = env.int("BILLING_OVERDUE_GRACE_DAYS", default=14)

# "Download my data" (accounts/data_export.py, docs/privacy.md): days a finished export can be downloaded.
DATA_EXPORT_TTL_DAYS = env.int("DATA_EXPORT_TTL_DAYS", default=7)

# Merchant reports (insights/, docs/reports.md). Rows on one page of the transaction report; the most rows
# a download is written at once in the request (more: a task on the `reports` queue with a progress bar);
# the most rows a PDF may hold (more: narrow the filters or take the CSV); the longest period in days;
# days a prepared file can be downloaded (then 410, and the sweep deletes it).
REPORT_PAGE_SIZE = env.int("REPORT_PAGE_SIZE", default=50)
REPORT_EXPORT_DIRECT_MAX_ROWS = env.int("REPORT_EXPORT_DIRECT_MAX_ROWS", default=1_000)
REPORT_PDF_MAX_ROWS = env.int("REPORT_PDF_MAX_ROWS", default=5_000)
REPORT_MAX_RANGE_DAYS = env.int("REPORT_MAX_RANGE_DAYS", default=366)
REPORT_EXPORT_TTL_DAYS = env.int("REPORT_EXPORT_TTL_DAYS", default=7)

# Amounts from outside (cashback/amounts.py, docs/webhooks.md): the most one purchase, refund, order
# line or spend hold may be, in minor units (100000000 = 1 000 000.00); per-currency overrides,
# e.g. "SEK=150000000,EUR=10000000". A larger amount is refused at the door with 400.
MAX_PURCHASE_MINOR = env.int("MAX_PURCHASE_MINOR", default=100_000_000)
MAX_PURCHASE_MINOR_BY_CURRENCY = {
    currency: int(amount) for currency, amount in env.dict("MAX_PURCHASE_MINOR_BY_CURRENCY", default={}).items()
}

# Payouts to consumers (wallet/payouts.py, docs/payouts.md). Amounts in minor units (100 = 1.00).
PAYOUT_MINIMUM_MINOR = env.int("PAYOUT_MINIMUM_MINOR", default=10000)
# The fee taken from each payout, in minor units (F-W2): shown before the consumer confirms, booked to
# platform revenue in the payout's own ledger transaction, given back if the payout fails. Zero: no fee.
PAYOUT_FEE_MINOR = env.int("PAYOUT_FEE_MINOR", default=0)
# Per-currency minimums overriding the one above, e.g. "EUR=1000,SEK=10000".
PAYOUT_MINIMUM_MINOR_BY_CURRENCY = {
    currency: int(amount) for currency, amount in env.dict("PAYOUT_MINIMUM_MINOR_BY_CURRENCY", default={}).items()
}
# Payouts above this amount wait for a staff member's review (0 = never).
PAYOUT_REVIEW_THRESHOLD_MINOR = env.int("PAYOUT_REVIEW_THRESHOLD_MINOR", default=500000)
# The mobile app's onboarding: Stripe sends the consumer back to a signed link that works without a
# cookie (wallet/payout_app_links.py); it is accepted this long after the app asked for onboarding.
PAYOUT_APP_LINK_MAX_AGE_SECONDS = env.int("PAYOUT_APP_LINK_MAX_AGE_SECONDS", default=3600)
# Country of the consumers' Stripe Express accounts.
PAYOUT_CONNECT_COUNTRY = env.str("PAYOUT_CONNECT_COUNTRY", default="NO")
# A payout still requested or processing (no Stripe payout yet) this long is processed again by the sweep.
PAYOUT_RESUME_AFTER_SECONDS = env.int("PAYOUT_RESUME_AFTER_SECONDS", default=600)
# Spending at checkout: a spend code lives this long; a hold placed with it expires after this long.
SPEND_CODE_TTL_SECONDS = env.int("SPEND_CODE_TTL_SECONDS", default=300)
SPEND_HOLD_TTL_SECONDS = env.int("SPEND_HOLD_TTL_SECONDS", default=900)

# Partner API: how long a response is kept for replays of the same Idempotency-Key.
PARTNER_IDEMPOTENCY_RETENTION_DAYS = env.int("PARTNER_IDEMPOTENCY_RETENTION_DAYS", default=7)

# --- E-mail ------------------------------------------------------------------

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://localhost:25")
EMAIL_HOST = EMAIL_CONFIG["EMAIL_HOST"]
EMAIL_PORT = EMAIL_CONFIG["EMAIL_PORT"]
EMAIL_HOST_USER = EMAIL_CONFIG.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = EMAIL_CONFIG.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = EMAIL_CONFIG.get("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Cashback <no-reply@cashback.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation ----------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nb", "Norsk bokmål"), ("sv", "Svenska"), ("da", "Dansk")]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Oslo")
USE_I18N = True
USE_TZ = True
# Translations: locale/<language>/LC_MESSAGES/django.po, compiled to .mo by `make messages` (docs/i18n.md).
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static files ------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serving from the finders lets `make run` and the tests work without collectstatic; the
# collected directory then need not exist, which WhiteNoise would otherwise warn about.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
if WHITENOISE_USE_FINDERS:
    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"

# --- Security ----------------------------------------------------------------

# HTTPS is assumed whenever DEBUG is off; set HTTPS=false to serve plain HTTP on a trusted network.
HTTPS = env.bool("HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", default=False) else None
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# Scripts, styles and fonts come from our own origin only; map tiles may come from the tile server.
# The maps' tiles (docs/public-site.md): MAP_TILE_URL is Leaflet's URL template; empty means
# MAP_TILE_ORIGIN + "/{z}/{x}/{y}.png". The CSP allows images from the template's origin.
MAP_TILE_ORIGIN = env.str("MAP_TILE_ORIGIN", default="https://tile.openstreetmap.org")
MAP_TILE_URL = env.str("MAP_TILE_URL", default="")
MAP_TILE_ATTRIBUTION = env.str("MAP_TILE_ATTRIBUTION", default="© OpenStreetMap contributors")
if MAP_TILE_URL:
    _tiles = urlsplit(MAP_TILE_URL)
    MAP_TILE_ORIGIN = f"{_tiles.scheme}://{_tiles.netloc}"
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", MAP_TILE_ORIGIN],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}

# --- REST API ----------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.SessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Bounded bodies and the card-number guard on every field of every endpoint (cashback/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "cashback.parsers.GuardedJSONParser",
        "cashback.parsers.GuardedFormParser",
        "cashback.parsers.GuardedMultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "cashback.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "cashback.openapi.CashbackAutoSchema",
    "EXCEPTION_HANDLER": "cashback.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["cashback.api_times.ApiJSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "COERCE_DECIMAL_TO_STRING": True,
    # Views that name a throttle_scope are limited (cashback/throttling.py, rates below).
    "DEFAULT_THROTTLE_CLASSES": ["cashback.throttling.ActionThrottle"],
}

# --- Rate limits on what sends a message or costs money (issue 13; docs/security.md) -------------
# Per scope: "N/s", "N/m", "N/h" or "N/d", counted per person (per API key for the partner API) in
# the cache, which is Redis when REDIS_URL is set. The API's writes and the pages' form posts of a
# scope share one count. API_THROTTLES=false turns them all off (the test settings and benchmarks).
API_THROTTLE_RATES: dict[str, str] = {
    "spend_codes": env.str("THROTTLE_SPEND_CODES", default="10/m"),
    "payouts": env.str("THROTTLE_PAYOUTS", default="5/m"),
    "donations": env.str("THROTTLE_DONATIONS", default="10/m"),
    "cards": env.str("THROTTLE_CARDS", default="10/h"),
    "referrals": env.str("THROTTLE_REFERRALS", default="10/h"),
    "partner": env.str("THROTTLE_PARTNER", default="600/m"),
    "geofence": env.str("THROTTLE_GEOFENCE", default="12/m"),
    # Redeeming a reward and the voucher's SMS code (the claim has its own limits besides: programmes.vouchers).
    "catalogue": env.str("THROTTLE_CATALOGUE", default="20/m"),
    # Starting a data export (docs/privacy.md); one runs at a time anyway, this bounds restarts.
    "data_export": env.str("THROTTLE_DATA_EXPORT", default="10/h"),
}
if not env.bool("API_THROTTLES", default=True):
    API_THROTTLE_RATES = {}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cashback platform API",
    "DESCRIPTION": "REST API for the mobile app and partner systems. Authentication: django-allauth headless "
    "(`/_allauth/app/v1/...`), then send the session token in the `X-Session-Token` header.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from our own static files (the sidecar package), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery -----------------------------------------------------------------

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
# Without a broker the tasks run in-process, so the embedded setup needs no services.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue(name) for name in ("default", "ingest", "rewards", "notifications", "reports")]
CELERY_TASK_ROUTES = {
    "wallet.tasks.statement*": {"queue": "reports"},
    "cashback.tasks.process_inbox_*": {"queue": "ingest"},
    # A daily batch job: it must not hold up processing on the ingest queue.
    "cashback.tasks.webhook_payloads_reduce": {"queue": "default"},
    "cashback.tasks.webhook_*": {"queue": "ingest"},
    "cashback.tasks.fact*": {"queue": "default"},
    # Staff announcements are notifications: sent on their queue, not the reward worker's.
    "campaigns.tasks.announcement_*": {"queue": "notifications"},
    "campaigns.tasks.*": {"queue": "rewards"},
    "referrals.tasks.*": {"queue": "rewards"},
    "wallet.tasks.*": {"queue": "rewards"},
    "notifications.tasks.*": {"queue": "notifications"},
    # The nearby push is a notification: written and sent on its queue.
    "geofencing.tasks.*": {"queue": "notifications"},
    "merchants.tasks.*": {"queue": "reports"},
    "accounts.tasks.*": {"queue": "reports"},
    # Folding figure changes is short and frequent: kept off the reward worker and the slow exports.
    "insights.tasks.figure_*": {"queue": "default"},
    "insights.tasks.*": {"queue": "reports"},
    # Transaction monitoring reads and raises flags; it never moves money or waits on intake.
    "monitoring.tasks.*": {"queue": "default"},
}
CELERY_TIMEZONE = TIME_ZONE
# Readiness (cashback/health.py, docs/operations.md "Health checks").
WORKER_HEARTBEAT_INTERVAL_SECONDS = env.int("WORKER_HEARTBEAT_INTERVAL_SECONDS", default=15)
WORKER_HEARTBEAT_STALE_SECONDS = env.int("WORKER_HEARTBEAT_STALE_SECONDS", default=60)
READINESS_CHECKS = env.list("READINESS_CHECKS", default=["database", "redis", "worker"])
if unknown_checks := set(READINESS_CHECKS) - {"database", "redis", "worker"}:
    raise ImproperlyConfigured(f"READINESS_CHECKS: unknown {sorted(unknown_checks)}; use database, redis, worker.")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # Business programmes: birthdays to the action rules, expired contracts release their budget.
    "programmes-action-birthdays": {
        "task": "programmes.tasks.action_birthdays_report",
        "schedule": crontab(hour=7, minute=5),
    },
    "programmes-contracts-expire": {
        "task": "programmes.tasks.contracts_expire_due",
        "schedule": crontab(hour=0, minute=20),
    },
    # Readiness (cashback/health.py): a worker records that it runs tasks; expires so that a backlog
    # of heartbeats never builds up behind a stopped worker.
    "cashback-worker-heartbeat": {
        "task": "cashback.tasks.worker_heartbeat",
        "schedule": timedelta(seconds=WORKER_HEARTBEAT_INTERVAL_SECONDS),
        "options": {"expires": WORKER_HEARTBEAT_INTERVAL_SECONDS},
    },
    "insights-report-exports-sweep": {
        "task": "insights.tasks.report_exports_sweep",
        "schedule": crontab(minute=50),
    },
    "accounts-data-exports-sweep": {
        "task": "accounts.tasks.data_exports_sweep",
        "schedule": crontab(minute=40),
    },
    "wallet-statements-monthly": {
        "task": "wallet.tasks.statements_monthly",
        "schedule": crontab(day_of_month=1, hour=5, minute=30),
    },
    "clear-expired-sessions": {
        "task": "cashback.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=15),
    },
    "cashback-facts-deliver-due": {
        "task": "cashback.tasks.facts_deliver_due",
        "schedule": crontab(minute="*"),
    },
    "notifications-outgoing-emails-due": {
        "task": "notifications.tasks.outgoing_emails_due",
        "schedule": crontab(minute="*"),
    },
    "notifications-deliveries-due": {
        "task": "notifications.tasks.deliveries_due",
        "schedule": crontab(minute="*"),
    },
    "geofencing-nearby-pushes-due": {
        "task": "geofencing.tasks.nearby_pushes_due",
        "schedule": crontab(minute="*"),
    },
    "cashback-webhook-events-retry-due": {
        "task": "cashback.tasks.webhook_events_retry_due",
        "schedule": crontab(minute="*"),
    },
    "cashback-webhook-payloads-reduce": {
        "task": "cashback.tasks.webhook_payloads_reduce",
        "schedule": crontab(hour=3, minute=40),
    },
    "wallet-expire-holds": {
        "task": "wallet.tasks.holds_expire",
        "schedule": crontab(minute="*/5"),
    },
    # The rewards catalogue: redemptions left between their hold and their voucher (programmes.md).
    "programmes-redemptions-settle": {
        "task": "programmes.tasks.redemptions_settle",
        "schedule": crontab(minute="*/5"),
    },
    "merchants-invoices-monthly": {
        "task": "merchants.tasks.invoices_monthly",
        "schedule": crontab(day_of_month=1, hour=4, minute=30),
    },
    "merchants-invoices-daily": {
        "task": "merchants.tasks.invoices_daily",
        "schedule": crontab(hour=7, minute=15),
    },
    "charity-disbursements-monthly": {
        "task": "charity.tasks.disbursements_monthly",
        "schedule": crontab(day_of_month=1, hour=6, minute=0),
    },
    "charity-disbursements-retry": {
        "task": "charity.tasks.disbursements_retry",
        "schedule": crontab(minute=20),
    },
    "wallet-ledger-check": {
        "task": "wallet.tasks.ledger_check",
        "schedule": crontab(hour=2, minute=30),
    },
    "wallet-payouts-resume": {
        "task": "wallet.tasks.payouts_resume",
        "schedule": crontab(minute="*/5"),
    },
    "campaigns-offers-activate-due": {
        "task": "campaigns.tasks.offers_activate_due",
        "schedule": crontab(minute="*"),
    },
    "campaigns-offers-end-due": {
        "task": "campaigns.tasks.offers_end_due",
        "schedule": crontab(minute="*"),
    },
    "referrals-expire-due": {
        "task": "referrals.tasks.referrals_expire_due",
        "schedule": crontab(hour=4, minute=10),
    },
    "campaigns-rewards-mature-due": {
        "task": "campaigns.tasks.rewards_mature_due",
        "schedule": crontab(minute="*/10"),
    },
    "campaigns-rewards-expire-due": {
        "task": "campaigns.tasks.rewards_expire_due",
        "schedule": crontab(hour=4, minute=10),
    },
    "campaigns-reward-expiry-warnings": {
        "task": "campaigns.tasks.reward_expiry_warnings_send",
        "schedule": crontab(hour=9, minute=0),
    },
    "insights-figure-changes-fold": {
        "task": "insights.tasks.figure_changes_fold_due",
        "schedule": crontab(minute="*"),
    },
    "campaigns-monthly-rewards-credit": {
        "task": "campaigns.tasks.monthly_rewards_credit",
        "schedule": crontab(day_of_month=1, hour=5, minute=0),
    },
    "campaigns-business-cashback-months-book": {
        "task": "campaigns.tasks.business_cashback_months_book",
        "schedule": crontab(hour=5, minute=20),
    },
    "campaigns-business-cashback-auto-payouts": {
        "task": "campaigns.tasks.business_cashback_auto_payouts",
        "schedule": crontab(hour=6, minute=10),
    },
    "merchants-partner-requests-purge": {
        "task": "merchants.tasks.partner_requests_purge_old",
        "schedule": crontab(hour=4, minute=10),
    },
    "monitoring-scan": {
        "task": "monitoring.tasks.monitoring_scan",
        "schedule": crontab(minute="*"),
    },
    "monitoring-sweep": {
        "task": "monitoring.tasks.monitoring_sweep",
        "schedule": crontab(hour=3, minute=20),
    },
}

# --- Metrics (cashback/metrics.py, docs/operations.md "Metrics") ------------------------------------
# /metrics is closed (404) unless one of these is set. With a token the scraper must send
# "Authorization: Bearer <token>" (401 otherwise); with addresses (IPs or networks, e.g. 10.0.0.0/8)
# the direct peer (REMOTE_ADDR) must be one of them (403 otherwise); with both, both. DEBUG opens it
# to this machine only.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"] if DEBUG else [])
# Counters read from the rows at scrape count rows stamped at least this long ago (so that the
# transactions that stamped them have committed); after a gap longer than the second (nobody
# scraped) they go on from the end of the gap.
METRICS_COUNT_LAG_SECONDS = env.int("METRICS_COUNT_LAG_SECONDS", default=30)
METRICS_COUNT_MAX_GAP_SECONDS = env.int("METRICS_COUNT_MAX_GAP_SECONDS", default=600)
# Probes on the internal network speak plain HTTP: no redirect to HTTPS for them. /metrics is not
# exempt: its bearer token must not cross a network in clear.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]

# --- Logging -----------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# json: one JSON object per line (production); plain: the readable line (make run). cashback/log_format.py.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
_LINE_FORMATTERS = {"json": "cashback.log_format.json_formatter", "plain": "cashback.log_format.PlainFormatter"}
if LOG_FORMAT not in _LINE_FORMATTERS:
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The request id, task id and task name bound now (cashback/request_ids.py) on every record.
    "filters": {"request_context": {"()": "cashback.log_format.RequestContextFilter"}},
    "formatters": {"line": {"()": _LINE_FORMATTERS[LOG_FORMAT]}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line", "filters": ["request_context"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs each step of parsing its stylesheets at INFO, also when it is imported at start-up.
        "weasyprint.progress": {"level": "WARNING"},
    },
}

# --- Platform rules ----------------------------------------------------------

SUPPORTED_CURRENCIES = ["NOK", "SEK", "DKK", "EUR"]
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="NOK")
TERMS_VERSION = env.str("TERMS_VERSION", default="2026-11")
MARKETING_CONSENT_VERSION = env.str("MARKETING_CONSENT_VERSION", default="2026-11")

# --- Rewards lifecycle (campaigns/services/, docs/rewards.md) --------------------
# An authorisation already earns a pending reward (the clearing amount then wins); off: only clearings earn.
REWARD_ON_AUTH = env.bool("REWARD_ON_AUTH", default=True)
# How old a worker's cached merchant inputs (live offers, challenges) may be before it checks the
# shared version in the cache for a change made by another process (campaigns/merchant_cache.py).
CAMPAIGNS_MERCHANT_CACHE_CHECK_SECONDS = env.float("CAMPAIGNS_MERCHANT_CACHE_CHECK_SECONDS", default=1.0)
# Available cashback unused this many days expires to breakage, oldest first (0 = never).
REWARD_EXPIRY_DAYS = env.int("REWARD_EXPIRY_DAYS", default=0)
# Consumers are warned this many days before cashback expires.
REWARD_EXPIRY_WARNING_DAYS = env.int("REWARD_EXPIRY_WARNING_DAYS", default=14)
# A refund without its original's id is matched to a purchase made at most this many days before it.
REFUND_MATCH_DAYS = env.int("REFUND_MATCH_DAYS", default=120)

# Transaction monitoring (docs/monitoring.md): each fraud rule's thresholds, read when the rule runs.
# "severity" is the flag's (low, medium, high). Change a threshold here; the nightly sweep applies it
# to the last MONITORING_SWEEP_HOURS.
MONITORING_RULES = {
    # More than max_purchases purchases on one card within window_minutes.
    "velocity": {
        "max_purchases": env.int("MONITORING_VELOCITY_MAX", default=5),
        "window_minutes": 60,
        "severity": "high",
    },
    # Same card (or person), merchant, currency and amount within window_minutes.
    "near_duplicate": {"window_minutes": 10, "severity": "medium"},
    # More than multiple_of_median times the merchant's median purchase (min_history purchases in history_days).
    "unusual_amount": {"multiple_of_median": 10, "min_history": 20, "history_days": 90, "severity": "medium"},
    # At least min_cycles purchases that earned cashback and were refunded or reversed, within window_days.
    "refund_cycling": {"min_cycles": 3, "window_days": 30, "severity": "high"},
    # At least min_referrals friends within window_hours, of whom min_shared share a device, network or card.
    "referral_farming": {"min_referrals": 5, "min_shared": 3, "window_hours": 24, "severity": "high"},
    # More than max_cards cards linked by one person within window_days (removed ones count).
    "many_cards": {"max_cards": 4, "window_days": 30, "severity": "medium"},
    # The same card (first six, last four, expiry) on at least min_accounts people.
    "shared_card": {"min_accounts": 2, "severity": "high"},
}
# The every-minute scan looks again this far behind its cursor (transactions that committed late).
MONITORING_SCAN_OVERLAP_SECONDS = env.int("MONITORING_SCAN_OVERLAP_SECONDS", default=120)
# Rows of each kind one scan looks at; the rest wait for the next minute.
MONITORING_SCAN_BATCH = env.int("MONITORING_SCAN_BATCH", default=2000)
# The nightly sweep looks at everything changed in the last this many hours.
MONITORING_SWEEP_HOURS = env.int("MONITORING_SWEEP_HOURS", default=26)
# --- Notifications on every channel and geofencing (issue 17; docs/notifications.md, docs/geofencing.md) ---
# SMS through Twilio (SMS_PROVIDER=twilio): the account, and the sender number or messaging service.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.str("TWILIO_FROM", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
# Push through FCM HTTP v1 (PUSH_PROVIDER=fcm): the Firebase project and its service-account key file.
FCM_PROJECT_ID = env.str("FCM_PROJECT_ID", default="")
FCM_CREDENTIALS_FILE = env.str("FCM_CREDENTIALS_FILE", default="")
# A channel's send is retried this many times on a provider's temporary error, then recorded failed.
NOTIFICATIONS_CHANNEL_MAX_ATTEMPTS = env.int("NOTIFICATIONS_CHANNEL_MAX_ATTEMPTS", default=5)
# The version of the location-consent text (geofencing's position reports).
LOCATION_CONSENT_VERSION = env.str("LOCATION_CONSENT_VERSION", default="2026-12")
# Geofence reports: shops within this radius match; reports less accurate than the bound are ignored.
GEOFENCE_RADIUS_M = env.int("GEOFENCE_RADIUS_M", default=300)
GEOFENCE_MAX_ACCURACY_M = env.int("GEOFENCE_MAX_ACCURACY_M", default=200)
# A claimed nearby push whose task was lost (the broker down at the report) is enqueued again by the
# minutely sweep once this old, and given up once older than the second: the person has walked on.
GEOFENCE_PUSH_STALE_SECONDS = env.int("GEOFENCE_PUSH_STALE_SECONDS", default=60)
GEOFENCE_PUSH_MAX_AGE_SECONDS = env.int("GEOFENCE_PUSH_MAX_AGE_SECONDS", default=1800)
