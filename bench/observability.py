"""What the request id and metrics middlewares add to a request (docs/benchmarks.md, "Observability").

Run: ``.venv/bin/python bench/observability.py`` (about half a minute; needs no database or Redis).

In one process, Django's WSGI handler is built twice: with settings.MIDDLEWARE as configured, and
without ``cashback.request_ids.RequestIdMiddleware`` and ``cashback.metrics.RequestMetricsMiddleware``.
Each answers ``GET /healthz/`` (a view that touches nothing, so the middleware's share is as large as it
gets) BENCH_REQUESTS times per round, the two alternating for BENCH_ROUNDS rounds; a figure is the
median over rounds of the mean CPU time per request (process time, steadier than wall time on a
loaded machine; wall time is printed too). It runs twice, in child processes: with the metrics in
the process's own registry (runserver), and in prometheus_client's multiprocess mode, as under
gunicorn (PROMETHEUS_MULTIPROC_DIR, counts written to memory-mapped files).
"""

import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
OURS = ("cashback.request_ids.RequestIdMiddleware", "cashback.metrics.RequestMetricsMiddleware")


def _environ() -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/healthz/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _measure(handler, count: int) -> tuple[float, float]:
    """Mean (cpu, wall) seconds per request."""

    def start_response(status, headers, exc_info=None):
        assert status.startswith("200"), status

    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        body = handler(_environ(), start_response)
        b"".join(body)
        body.close()
    return (time.process_time() - cpu) / count, (time.perf_counter() - wall) / count


def child() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashback.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleTI=")
    os.environ.setdefault("EXTERNAL_ID_KEY", "bench-only-external-id-key-not-a-secret-0123456789")
    os.environ["HTTPS"] = "false"
    os.environ["LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    django.setup()
    with_ours = WSGIHandler()
    with override_settings(MIDDLEWARE=[name for name in settings.MIDDLEWARE if name not in OURS]):
        without_ours = WSGIHandler()
    for handler in (with_ours, without_ours):
        _measure(handler, 200)  # warm up: imports, URL resolver, first label sets
    samples: dict[str, list[tuple[float, float]]] = {"with": [], "without": []}
    for round_number in range(ROUNDS):
        order = [("with", with_ours), ("without", without_ours)]
        for name, handler in order if round_number % 2 == 0 else reversed(order):
            samples[name].append(_measure(handler, REQUESTS))
    figures = {}
    for name, pairs in samples.items():
        figures[f"{name}_cpu_us"] = round(statistics.median(cpu for cpu, _ in pairs) * 1e6, 1)
        figures[f"{name}_wall_us"] = round(statistics.median(wall for _, wall in pairs) * 1e6, 1)
    figures["added_cpu_us"] = round(figures["with_cpu_us"] - figures["without_cpu_us"], 1)
    figures["added_cpu_percent"] = round(100 * figures["added_cpu_us"] / figures["without_cpu_us"], 1)
    print(json.dumps(figures))


def main() -> None:
    results = {}
    for mode in ("single", "multiprocess"):
        environment = dict(os.environ)
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        with tempfile.TemporaryDirectory(prefix="bench-metrics-") as directory:
            if mode == "multiprocess":
                environment["PROMETHEUS_MULTIPROC_DIR"] = directory
            output = subprocess.run(
                [sys.executable, __file__, "--child"], env=environment, capture_output=True, text=True, check=True
            ).stdout
        results[mode] = json.loads(output.strip().splitlines()[-1])
        print(f"{mode}: {results[mode]}")
    with open("/proc/loadavg") as loadavg:
        load = loadavg.read().split()[0]
    print(json.dumps({"requests_per_round": REQUESTS, "rounds": ROUNDS, "loadavg_1m": float(load), **results}))


if __name__ == "__main__":
    child() if "--child" in sys.argv else main()
