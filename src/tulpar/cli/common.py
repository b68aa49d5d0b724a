"""Helpers shared by commands: one transaction per command, friendly failures."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from alembic.runtime.migration import MigrationContext
from rich.console import Console
from sqlalchemy.orm import Session

from tulpar.config import UnsafeSettingsError, check_environment, get_settings
from tulpar.db import get_engine, is_missing_from_schema, transaction
from tulpar.errors import TulparError
from tulpar.migrations_runner import head_revision

console = Console()
errors = Console(stderr=True)

NOT_SET_UP = "the database is not set up yet; run `tulpar db upgrade` (or `make demo`)"


@contextmanager
def command_transaction() -> Iterator[Session]:
    """Run a command's work in one transaction; business errors print and exit 1, and so does
    a database that was never migrated (one line saying what to run, not a traceback)."""
    with schema_required():
        try:
            with transaction() as session:
                yield session
        except TulparError as error:
            errors.print(f"[red]error:[/red] {error.detail}")
            raise typer.Exit(1) from error


def refuse_unsafe_environment(*, simulator: str | None = None) -> None:
    """Environment safety: exit 1 with one line when production is configured with a
    simulator or a placeholder secret, or when ``simulator`` (a command's name) is started
    in production at all."""
    try:
        check_environment()
        if simulator is not None and get_settings().is_production:
            raise UnsafeSettingsError(
                f"`tulpar {simulator}` is a simulator and does not run with"
                " TULPAR_ENVIRONMENT=production"
            )
    except UnsafeSettingsError as error:
        errors.print(f"[red]error:[/red] {error}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from None


@contextmanager
def schema_required() -> Iterator[None]:
    """Turn "relation does not exist" (and its kin) from a database whose schema is missing or
    behind into one line naming `tulpar db upgrade`, and exit 1. At the newest migration a
    missing table is a bug, so that error goes on unchanged."""
    try:
        yield
    except Exception as error:
        if not is_missing_from_schema(error):
            raise
        problem = _schema_problem()
        if problem is None:
            raise
        errors.print(f"[red]error:[/red] {problem}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from None


def _schema_problem() -> str | None:
    """What is wrong with the schema, or None when it is at the newest migration (or the
    question cannot be answered, so the original error is the better report)."""
    try:
        with get_engine().connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception:
        return None
    if current is None:
        return NOT_SET_UP
    head = head_revision()
    if current == head:
        return None
    return (
        f"the database schema is at migration {current}, not {head} that this Tulpar needs;"
        " run `tulpar db upgrade`"
    )


def exit_normally_on_sigterm() -> None:
    """uvicorn re-raises the signal it stopped on; with the default SIGTERM action the process
    would die without running exit handlers, leaving the embedded PostgreSQL running."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
