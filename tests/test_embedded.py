"""The embedded PostgreSQL: started on demand in the data dir, reused, stopped on exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.embedded_smoke

SCRIPT = """
import sys, psycopg
from tulpar.db import libpq_url
with psycopg.connect(libpq_url(), autocommit=True) as connection:
    connection.execute(sys.argv[1])
    print(connection.execute("SELECT count(*) FROM marks").fetchone()[0])
"""


def _run(data_dir: Path, statement: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["TULPAR_DATA_DIR"] = str(data_dir)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, statement],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]  # what the embedded server said
    return done.stdout.strip()


def _postmaster_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().splitlines()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_data_survives_restarts_and_the_server_stops_on_exit(tmp_path: Path) -> None:
    data_dir = tmp_path / "tulpar-data"

    assert _run(data_dir, "CREATE TABLE marks (id int); INSERT INTO marks VALUES (1)") == "1"
    assert not _postmaster_running(data_dir / "pgdata")

    assert _run(data_dir, "INSERT INTO marks VALUES (2)") == "2"
    assert not _postmaster_running(data_dir / "pgdata")


def test_a_killed_user_does_not_keep_the_server_alive(tmp_path: Path) -> None:
    data_dir = tmp_path / "tulpar-data"
    _run(data_dir, "CREATE TABLE marks (id int)")
    handles = data_dir / "pgdata" / ".handle_pids.json"
    handles.write_text(json.dumps([2**22 + 12345]))  # a pid that no longer exists

    _run(data_dir, "INSERT INTO marks VALUES (1)")

    assert not _postmaster_running(data_dir / "pgdata")
