"""A command run against a database whose schema is missing (or behind) says, in one line,
what to run, and exits 1: no SQL traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.exc import ProgrammingError
from typer.testing import CliRunner

from tests.fixtures.database import create_database, drop_database, server_admin_url, with_database
from tests.fixtures.factories import make_iccid
from tulpar import db
from tulpar.cli import app
from tulpar.config import get_settings
from tulpar.migrations_runner import head_revision, upgrade

runner = CliRunner(env={"COLUMNS": "200"})

NOT_SET_UP = "error: the database is not set up yet; run `tulpar db upgrade` (or `make demo`)"


def _forget_connections() -> None:
    db.get_engine().dispose()
    db.get_engine.cache_clear()
    db.get_sessionmaker.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A database with nothing in it on the test server; Tulpar's settings point at it."""
    admin_url = server_admin_url()
    name = create_database(admin_url, prefix="tulpar_empty")
    url = with_database(admin_url, name)
    previous = os.environ.get("DATABASE_URL")
    _forget_connections()
    os.environ["DATABASE_URL"] = url
    try:
        yield url
    finally:
        _forget_connections()
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        drop_database(admin_url, name)


def _usage_file(tmp_path: Path) -> Path:
    path = tmp_path / "usage.csv"
    path.write_text(
        "source,record_id,card,kind,quantity,occurred_at\n"
        f"carrier,r-1,{make_iccid(1)},data,1000,2026-11-24T06:00:00Z\n"
    )
    return path


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    return {
        "cards show": ["cards", "show", make_iccid(1)],
        "plans list": ["plans", "list"],
        "partners create": ["partners", "create", "Ctrip"],
        "bundles grant": ["bundles", "grant", make_iccid(1), "KZ-7D-5GB", "--reason", "r"],
        "usage import": ["usage", "import", str(_usage_file(tmp_path))],
    }


@pytest.mark.parametrize(
    "command", ["cards show", "plans list", "partners create", "bundles grant", "usage import"]
)
def test_a_command_on_an_empty_database_says_to_run_db_upgrade(
    empty_database: str, tmp_path: Path, command: str
) -> None:
    result = runner.invoke(app, _commands(tmp_path)[command])

    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [NOT_SET_UP]


def test_the_installed_command_prints_one_line_and_no_traceback(empty_database: str) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "tulpar", "cards", "show", make_iccid(1)],
        env={**os.environ, "DATABASE_URL": empty_database, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode == 1, finished.stderr
    assert finished.stdout == ""
    assert finished.stderr.strip().splitlines() == [NOT_SET_UP]


def test_a_schema_behind_the_code_names_its_migration(empty_database: str, tmp_path: Path) -> None:
    upgrade(empty_database, "0002")  # usage records arrive in 0003
    with psycopg.connect(empty_database, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO cards (iccid, language, state) VALUES (%s, 'en', 'active')",
            (make_iccid(1),),
        )

    result = runner.invoke(app, _commands(tmp_path)["usage import"])

    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        f"error: the database schema is at migration 0002, not {head_revision()} that this"
        " Tulpar needs; run `tulpar db upgrade`"
    ]


def test_a_missing_table_at_the_newest_migration_is_not_hidden(empty_database: str) -> None:
    upgrade(empty_database)
    with psycopg.connect(empty_database, autocommit=True) as connection:
        connection.execute("DROP TABLE plans CASCADE")

    result = runner.invoke(app, ["plans", "list"])

    assert result.exit_code == 1
    assert isinstance(result.exception, ProgrammingError)
    assert "tulpar db upgrade" not in result.output


def test_the_worker_on_an_empty_database_says_to_run_db_upgrade(empty_database: str) -> None:
    result = runner.invoke(app, ["worker"])

    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1] == NOT_SET_UP
    assert "Traceback" not in result.output
