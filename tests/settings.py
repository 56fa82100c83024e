"""Settings for the test suite: the project settings with test defaults.

PostgreSQL and Redis are used when DATABASE_URL / REDIS_URL are set or the default
local servers answer; otherwise SQLite and an in-memory broker (tests marked
``postgres`` or ``redis`` are then skipped with a message saying why).
"""

import os
import socket


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


os.environ.setdefault("SECRET_KEY", "test-secret-key-not-used-anywhere-else")
os.environ.setdefault("EXTERNAL_ID_KEY", "test-external-id-key")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "dGVzdC1maWVsZC1lbmNyeXB0aW9uLWtleS0zMmJ5dGU=")
os.environ.setdefault("HTTPS", "false")
# Rate limits off, so that no test trips one by accident; tests/cashback/test_rate_limits.py turns
# each on with a small rate.
os.environ.setdefault("ACCOUNT_RATE_LIMITS", "false")
os.environ.setdefault("API_THROTTLES", "false")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
if "DATABASE_URL" not in os.environ and _answers("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/cashback"
if "REDIS_URL" not in os.environ and _answers("127.0.0.1", 6379):
    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/15"

# Tasks run in-process unless a test starts a real worker (tests/test_celery_worker.py).
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from cashback.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# A second alias onto the test database, as a read replica would be (insights reads through
# settings.INSIGHTS_DATABASE; tests/insights/test_views.py points it here).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
