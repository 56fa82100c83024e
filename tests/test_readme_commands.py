"""The README's command blocks work as typed.

Every ```sh block of README.md is taken apart line by line and each line is checked:

- ``make <target>`` lines: ``make -n <target>`` must succeed (the target exists and its recipe
  expands). They are not run for real here: ``make run`` installs a virtual environment and serves
  until stopped, ``make test`` runs this very suite.
- ``.venv/bin/python manage.py ...`` lines (with their ``VAR=value`` prefixes): run in a fresh
  process with an environment holding nothing but PATH, HOME and the database, exactly as a person
  types them in a second terminal while ``make run`` serves. Two things differ from a clean clone, and
  only these: the database is this test run's (PostgreSQL, shared with the live test server; the
  in-memory SQLite of a run without PostgreSQL cannot be shared, so these lines are skipped there),
  and ``simulate_purchase`` is pointed at the live test server's port with ``--url`` (``make run``
  listens on 8000, which a test must not take).

A line nobody recognises fails the test, so a new command block gets a check when it is written.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from accounts.demo import seed_demo_cards, seed_demo_users
from accounts.demo_staff import seed_demo_staff
from merchants.demo import seed_demo_merchants

REPO = Path(__file__).resolve().parents[1]
# The signing secret DEBUG=true gives both `make run`'s server and the commands (cashback/settings.py).
DEVELOPMENT_VISA_SECRET = "dev-visa-webhook-secret"


def readme_command_lines() -> list[str]:
    text = (REPO / "README.md").read_text()
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL):
        for raw in block.splitlines():
            command = raw.split("#", 1)[0].strip()
            if command:
                lines.append(command)
    return lines


def _split(command: str) -> tuple[dict[str, str], list[str]]:
    words = shlex.split(command)
    prefix: dict[str, str] = {}
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        name, value = words.pop(0).split("=", 1)
        prefix[name] = value
    return prefix, words


def test_the_readme_has_command_blocks_and_every_line_is_a_kind_this_test_checks():
    lines = readme_command_lines()
    assert any(line.startswith("make run") for line in lines)
    assert any("simulate_purchase" in line for line in lines)
    for line in lines:
        _, words = _split(line)
        assert words[0] == "make" or words[:2] == [".venv/bin/python", "manage.py"], f"unchecked README line: {line}"


@pytest.mark.parametrize("line", [line for line in readme_command_lines() if line.startswith("make ")])
def test_each_make_target_the_readme_names_exists(line):
    _, words = _split(line)
    result = subprocess.run(["make", "-n", *words[1:]], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def _test_database_url() -> str:
    settings = connection.settings_dict
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    return f"postgres://{user}{password}@{host}/{settings['NAME']}"


@pytest.fixture
def demo_being_served(live_server, settings):
    """What ``make run`` serves for these commands: the demo people, cards and shops."""
    settings.VISA_WEBHOOK_SECRET = DEVELOPMENT_VISA_SECRET
    seed_demo_users()
    seed_demo_staff()
    seed_demo_cards()
    seed_demo_merchants()
    return live_server


MANAGE_LINES = [line for line in readme_command_lines() if "manage.py" in line]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("line", MANAGE_LINES)
def test_each_manage_py_command_in_the_readme_runs_as_typed_while_the_demo_is_served(line, demo_being_served):
    prefix, words = _split(line)
    arguments = words[2:]
    if arguments[0] == "simulate_purchase":
        arguments += ["--url", demo_being_served.url]
    # A clean terminal: none of the test run's settings leak in (no SECRET_KEY, no DJANGO_SETTINGS_MODULE).
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_URL": _test_database_url(),
        **prefix,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"


def test_without_the_development_settings_the_commands_refuse_with_a_message_not_a_traceback_of_ours():
    """Why the README writes DEBUG=true: without it the settings stop at once, as in production."""
    result = subprocess.run(
        [sys.executable, "manage.py", "demo_totp"],
        cwd=REPO,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
