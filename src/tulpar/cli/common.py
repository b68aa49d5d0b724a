"""Helpers shared by commands: one transaction per command, friendly failures."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from tulpar.db import transaction
from tulpar.errors import TulparError

console = Console()
errors = Console(stderr=True)


@contextmanager
def command_transaction() -> Iterator[Session]:
    """Run a command's work in one transaction; business errors print and exit 1."""
    try:
        with transaction() as session:
            yield session
    except TulparError as error:
        errors.print(f"[red]error:[/red] {error.detail}")
        raise typer.Exit(1) from error


def exit_normally_on_sigterm() -> None:
    """uvicorn re-raises the signal it stopped on; with the default SIGTERM action the process
    would die without running exit handlers, leaving the embedded PostgreSQL running."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
