import logging.config
import os
from typing import Any

from celery import Celery, signals
from django.conf import settings

from cashback import request_ids  # noqa: F401 - connects the request id's task signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashback.settings")

app = Celery("cashback")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def _use_django_logging(**_: Any) -> None:
    """Worker and beat log through settings.LOGGING (JSON lines with the request id, or plain), not
    through the handlers Celery would install on the root logger in its place."""
    logging.config.dictConfig(settings.LOGGING)
