"""A page that enqueues a task, for the request id's trip from a request into a worker
(tests/cashback/test_request_ids.py); the platform's own URLs behind it."""

import logging

from celery import shared_task
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from cashback import request_ids

logger = logging.getLogger("tests.request_ids")


@shared_task(name="tests.request_id_record")
def request_id_record() -> dict:
    """Logs one line, and returns the ids the worker had bound while running."""
    logger.info("recording the request id")
    return {
        "request_id": request_ids.request_id_var.get(),
        "task_name": request_ids.task_name_var.get(),
    }


def enqueue(request: HttpRequest) -> JsonResponse:
    queue = request.GET["queue"]
    sent: list = []
    with transaction.atomic():  # as the platform's views do: enqueued after commit
        transaction.on_commit(lambda: sent.append(request_id_record.apply_async(queue=queue)))
    return JsonResponse({"task_id": sent[0].id})


urlpatterns = [
    path("test/enqueue/", enqueue),
    path("", include("cashback.urls")),
]
