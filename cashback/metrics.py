"""Prometheus metrics at ``GET /metrics`` (docs/operations.md, "Metrics" lists every family).

Two kinds of figures:

- **Counted where they happen**, in the web processes: requests by view, method and status with their
  latency (``RequestMetricsMiddleware``), and webhook deliveries by source and answer (the doors in
  cashback/webhooks.py call ``webhook_answered``). Under gunicorn each worker process counts in files
  under ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py makes one) and a scrape adds them up
  (prometheus_client's multiprocess mode); without it (runserver, tests) the process's own registry.
- **Read at scrape** from PostgreSQL and Redis by collectors that apps register with
  ``register_scrape_collector`` (cashback/metrics_scrape.py, wallet/metrics.py): the inbox's lag and
  backlog, Celery queue depths, and the worker's work — events settled, ledger postings, payout
  steps — counted from the rows the workers wrote, so any number of worker processes on any number
  of machines are counted once, and the processing code carries no metrics code.

The endpoint is closed unless configured: ``METRICS_TOKEN`` (a bearer token the scraper sends) and/or
``METRICS_ALLOWED_IPS`` (addresses or networks of the scraper, checked against REMOTE_ADDR, the direct
peer); with neither it answers 404, with a wrong or missing token 401, from another address 403.
"""

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# The *_created series double the output and say nothing a scraper needs here.
disable_created_metrics()

HTTP_REQUESTS = Counter(
    "cashback_http_requests",
    "Requests answered by Django, by view (URL name), method and status code.",
    ["view", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "cashback_http_request_duration_seconds",
    "Time from the request entering Django's middleware to the response leaving it, by view and method.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WEBHOOK_DELIVERIES = Counter(
    "cashback_webhook_deliveries",
    "Webhook deliveries by source and answer: received, ignored, duplicate, or the error code.",
    ["source", "answer"],
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNRESOLVED_VIEW = "unresolved"  # 404s and anything answered before URL resolution: one label, not one per path


class RequestMetricsMiddleware:
    """Near the top of MIDDLEWARE: counts and times every request Django answers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        # view_name is the URL's namespaced name; a pattern without a name falls back to the view's path.
        view = match.view_name if match is not None else UNRESOLVED_VIEW
        method = request.method if request.method in _METHODS else "other"
        key = (view, method, response.status_code)
        series = _request_series.get(key)
        if series is None:
            series = _request_series[key] = (
                HTTP_REQUESTS.labels(view, method, str(response.status_code)),
                HTTP_LATENCY.labels(view, method),
            )
        series[0].inc()
        series[1].observe(elapsed)
        return response


# The labelled series by (view, method, status), looked up once: labels() validates and locks on
# every call, which is most of what counting costs. Bounded by views, methods and status codes.
_request_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def webhook_answered(*, source: str, answer: str) -> None:
    series = _delivery_series.get((source, answer))
    if series is None:
        series = _delivery_series[(source, answer)] = WEBHOOK_DELIVERIES.labels(source, answer)
    series.inc()


# As _request_series: bounded by the three doors and their answers (a fixed set of error codes).
_delivery_series: dict[tuple[str, str], Any] = {}


# --- Collectors read at scrape ---------------------------------------------------------------------

_scrape_collectors: list[Callable[[], Iterable[Metric]]] = []


def register_scrape_collector(collect: Callable[[], Iterable[Metric]]) -> None:
    """Call from AppConfig.ready(): ``collect()`` yields metric families, computed at each scrape
    with bounded queries (an index, a window, a backlog)."""
    if collect not in _scrape_collectors:
        _scrape_collectors.append(collect)


class _ReadAtScrape(Collector):
    """Runs every registered collector; one whose database or Redis does not answer is left out and
    reported by ``cashback_scrape_collector_up`` = 0, so that the rest still reach the scraper (an
    outage is when the figures matter most)."""

    def describe(self) -> Iterable[Metric]:
        return []  # computed at each scrape; nothing to register ahead

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "cashback_scrape_collector_up",
            "1 when the collector's figures were read at this scrape, 0 when its database or Redis failed.",
            labels=["collector"],
        )
        for collect in _scrape_collectors:
            name = f"{collect.__module__}.{collect.__qualname__}"
            try:
                families = list(collect())
            except (DatabaseError, redis.RedisError, OSError):
                logger.warning("metrics collector %s failed", name, exc_info=True)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


def exposition() -> bytes:
    """The text a scrape gets: this process's (or all processes') counters, then the scrape-time figures."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(_ReadAtScrape())
    return counted + generate_latest(scraped)


# --- The endpoint ----------------------------------------------------------------------------------


@cache
def _allowed_networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _address_allowed(remote_addr: str) -> bool:
    networks = _allowed_networks(tuple(settings.METRICS_ALLOWED_IPS))
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _token_matches(authorization: str) -> bool:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode())


def metrics_response(request: HttpRequest) -> HttpResponse:
    """The scrape's answer, or the refusal (404 unconfigured, 403 address, 401 token)."""
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_IPS:
        raise Http404  # not configured: as if there were no such page
    if settings.METRICS_ALLOWED_IPS and not _address_allowed(request.META.get("REMOTE_ADDR", "")):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    if settings.METRICS_TOKEN and not _token_matches(request.META.get("HTTP_AUTHORIZATION", "")):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
