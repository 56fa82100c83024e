"""Where a benchmark's CPU goes: the machine's busy time and the process trees of the parts under test.

``bench/e2e.py`` measures each side of a run with a ``Meter``: the worker, gunicorn, PostgreSQL and
Redis by their process trees, the benchmark's own client processes by what this process reaped, and
the machine by ``/proc/stat``. PostgreSQL's share per event is what says how far one primary goes
when the web and worker processes move to other machines (docs/benchmarks.md).
"""

import os
import resource
import statistics
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process, its living descendants (prefork children, PostgreSQL's
    backends) and the children it has reaped (a backend whose connection closed)."""
    total, pending, root = 0.0, [pid], True
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _TICKS
            if root:
                total += (int(fields[13]) + int(fields[14])) / _TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, IndexError, PermissionError):
            continue
        finally:
            root = False
    return total


def machine_busy() -> float:
    """CPU seconds all cores spent on anything but idling or waiting for I/O, since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / _TICKS


def parent_pid(pid: int) -> int | None:
    """The parent of ``pid`` (PostgreSQL's postmaster, from a backend's pid), or None when this
    machine's /proc does not show it (a server in another namespace or on another machine)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return None


def pid_of(name: str) -> int | None:
    """The oldest process whose command is ``name`` (``redis-server``), or None."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return min(found) if found else None


class Meter:
    """CPU seconds each part used between ``start()`` and ``stop()``: the process trees named in
    ``parts`` (a None pid is left out), ``clients`` (the children this process reaped meanwhile:
    the benchmark's client processes, joined before ``stop``) and ``machine`` (every core)."""

    def __init__(self, parts: dict[str, int | None]) -> None:
        self.parts = {name: pid for name, pid in parts.items() if pid is not None}
        self._before: dict[str, float] = {}

    def _read(self) -> dict[str, float]:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        figures = {name: tree_cpu(pid) for name, pid in self.parts.items()}
        figures["clients"] = children.ru_utime + children.ru_stime
        figures["machine"] = machine_busy()
        return figures

    def start(self) -> None:
        self._before = self._read()

    def stop(self) -> dict[str, float]:
        after = self._read()
        return {name: max(0.0, after[name] - self._before[name]) for name in after}


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median of each part over a measurement's runs, rounded to 0.01."""
    parts = sorted({name for run in runs for name in run})
    return {name: round(statistics.median(run[name] for run in runs if name in run), 2) for name in parts}
