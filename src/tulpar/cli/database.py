from __future__ import annotations

import typer

from tulpar.cli.common import console
from tulpar.db import libpq_url
from tulpar.migrations_runner import upgrade as run_upgrade

app = typer.Typer(no_args_is_help=True, help="Database schema.")


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    run_upgrade(libpq_url(), revision)
    console.print(f"database at [bold]{revision}[/bold]")
