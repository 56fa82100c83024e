"""The docker-compose stack and the settings it relies on stay in step with the code."""

import importlib
import re
import runpy
import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings

from cashback.celery import app

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_five_services():
    assert set(_compose()["services"]) >= {"web", "worker", "beat", "postgres", "redis"}


def test_django_services_share_one_environment_with_database_and_redis():
    services = _compose()["services"]
    environments = [services[name]["environment"] for name in ("web", "worker", "beat")]
    assert environments[0] == environments[1] == environments[2]
    assert environments[0]["DATABASE_URL"].startswith("postgres://")
    assert environments[0]["REDIS_URL"].startswith("redis://")
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == "."
        assert set(services[name]["depends_on"]) == {"postgres", "redis"}


def test_web_runs_gunicorn_on_the_wsgi_application_that_exists():
    command = _compose()["services"]["web"]["command"]
    target = re.search(r"gunicorn ([\w.]+):(\w+)", command)
    assert target, command
    module = importlib.import_module(target.group(1))
    assert callable(getattr(module, target.group(2)))
    assert "migrate" in command


def test_gunicorn_conf_sets_known_settings_with_gthread_workers(monkeypatch):
    from gunicorn.config import KNOWN_SETTINGS

    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("WEB_THREADS", "6")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    chosen = {name: value for name, value in settings.items() if not name.startswith("_") and not callable(value)}
    chosen = {name: value for name, value in chosen.items() if not hasattr(value, "__spec__")}  # imported modules

    assert set(chosen) <= {setting.name for setting in KNOWN_SETTINGS}
    assert (chosen["worker_class"], chosen["workers"], chosen["threads"]) == ("gthread", 3, 6)
    assert chosen["accesslog"] is None  # the proxy in front logs requests unless WEB_ACCESS_LOG is set


def test_the_image_and_compose_leave_worker_settings_to_gunicorn_conf():
    dockerfile = (ROOT / "Dockerfile").read_text()
    command = _compose()["services"]["web"]["command"]
    for text in (dockerfile, command):
        assert "--workers" not in text
        assert "--threads" not in text


def test_worker_consumes_every_named_queue():
    command = _compose()["services"]["worker"]["command"]
    assert command.startswith("celery -A cashback worker")
    queues = set(re.search(r"--queues (\S+)", command).group(1).split(","))
    assert queues == {queue.name for queue in settings.CELERY_TASK_QUEUES}


def test_beat_uses_the_database_scheduler_from_settings():
    command = _compose()["services"]["beat"]["command"]
    assert command.startswith("celery -A cashback beat")
    assert f"--scheduler {settings.CELERY_BEAT_SCHEDULER}" in command
    assert app.conf.beat_scheduler == settings.CELERY_BEAT_SCHEDULER


def test_the_image_is_built_from_the_lock_file():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.lock" in dockerfile
    assert (ROOT / "requirements.lock").is_file()


def test_every_variable_compose_sets_is_documented():
    documented = (ROOT / "docs" / "operations.md").read_text()
    for variable in _compose()["services"]["web"]["environment"]:
        assert f"`{variable}`" in documented, f"{variable} is missing from docs/operations.md"


def _settings_in_subprocess(env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'cashback.settings'; django.setup(); "
        f"from django.conf import settings; print({expression})"
    )
    clean_env = {"PATH": "/usr/bin:/bin", **env}
    return subprocess.run(
        [sys.executable, "-c", code], env=clean_env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_debug_is_off_and_secret_key_required_by_default():
    result = _settings_in_subprocess({}, "settings.DEBUG")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_defaults_are_secure():
    result = _settings_in_subprocess(
        {"SECRET_KEY": "x" * 50},
        "settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT,"
        " settings.SECURE_HSTS_SECONDS, settings.CELERY_TASK_ALWAYS_EAGER",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True True True 31536000 True"


def test_redis_url_turns_off_eager_mode():
    result = _settings_in_subprocess(
        {"SECRET_KEY": "x" * 50, "REDIS_URL": "redis://example:6379/0"},
        "settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False redis://example:6379/0"


def test_compose_checks_readiness_of_web_and_the_worker_heartbeat_of_worker_and_beat():
    services = _compose()["services"]
    assert "/readyz/" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("worker", "beat"):
        assert services[name]["healthcheck"]["test"][-3:] == ["manage.py", "readiness", "worker"], name


def test_production_logs_json_debug_logs_plain_and_metrics_are_closed_unless_configured():
    production = _settings_in_subprocess(
        {"SECRET_KEY": "x" * 50}, "settings.LOG_FORMAT, settings.METRICS_TOKEN == '', settings.METRICS_ALLOWED_IPS"
    )
    development = _settings_in_subprocess({"DEBUG": "true"}, "settings.LOG_FORMAT, settings.METRICS_ALLOWED_IPS")
    wrong = _settings_in_subprocess({"SECRET_KEY": "x" * 50, "LOG_FORMAT": "xml"}, "settings.LOG_FORMAT")

    assert production.stdout.strip() == "json True []", production.stderr
    assert development.stdout.strip() == "plain ['127.0.0.1', '::1']", development.stderr
    assert wrong.returncode != 0
    assert "LOG_FORMAT must be json or plain" in wrong.stderr
