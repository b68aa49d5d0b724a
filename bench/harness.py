"""What every benchmark needs around the code it measures: a scratch database on the same
server (or the embedded one), Tulpar's settings pointed at it, a free loopback port and a
process's CPU time."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url

from tulpar import db
from tulpar.config import Settings, get_settings

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def admin_url() -> str:
    """The maintenance database of the server ``DATABASE_URL`` names (else the embedded one)."""
    settings = get_settings()
    if settings.database_url:
        return db.libpq_url(settings)
    return db.libpq_url(Settings(database_url=None, embedded_database_name="postgres"))


@contextmanager
def scratch_database(prefix: str = "tulpar_bench") -> Iterator[str]:
    """A new, uniquely named database, dropped afterwards whatever happened. The server is
    the one the settings name now: benchmarks point the settings at the scratch database
    meanwhile, so it is remembered here."""
    admin = admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def point_settings_at(url: str, **values: str) -> None:
    """Tulpar in this process (and the processes it starts) uses ``url`` and these settings."""
    os.environ["DATABASE_URL"] = url
    for name, value in values.items():
        os.environ[f"TULPAR_{name.upper()}"] = value
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db.get_sessionmaker.cache_clear()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def tree_cpu_seconds(pids: list[int]) -> dict[int, float]:
    """CPU seconds so far of each live process among ``pids`` and their descendants (a
    ``serve --workers N`` supervisor's web processes, say), by pid."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    wanted, found = set(pids), {}
    changed = True
    while changed:  # to a fixed point: a grandchild may be listed before its parent
        changed = False
        for pid, parent in parents.items():
            if parent in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    for pid in wanted:
        try:
            found[pid] = cpu_seconds(pid)
        except OSError:
            continue
    return found
