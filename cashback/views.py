from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cashback import health as health_checks
from cashback import metrics as platform_metrics


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "public/home.html")


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches no database, so a database outage restarts nothing."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness for a load balancer and compose: 200 when every check passes, else 503; the body
    says which check failed and why (cashback/health.py)."""
    ok, checks = health_checks.readiness()
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' scrape; closed unless METRICS_TOKEN or METRICS_ALLOWED_IPS is set (cashback/metrics.py)."""
    return platform_metrics.metrics_response(request)
