"""The WSGI entry point (gunicorn, runserver): the webhook doors in front of Django (cashback/webhooks.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashback.settings")

django_application = get_wsgi_application()

from cashback.webhooks import WebhookDoors  # noqa: E402 - needs the apps loaded by get_wsgi_application

application = WebhookDoors(django_application)
