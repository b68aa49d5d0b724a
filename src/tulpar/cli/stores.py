"""``tulpar stores``: the authorised stores."""

from __future__ import annotations

import typer

from tulpar.auth import service as auth_service
from tulpar.cli.common import command_transaction, console
from tulpar.store import service

app = typer.Typer(no_args_is_help=True, help="Authorised stores that sell at the counter.")


@app.command("create")
def create(
    code: str,
    name: str = typer.Option(..., "--name"),
    city: str = typer.Option(..., "--city"),
    address: str = typer.Option(..., "--address"),
    hours: str = typer.Option(..., "--hours", help="opening hours, as printed"),
    legal_name: str = typer.Option(..., "--legal-name", help="the seller on its receipts"),
    bin_: str = typer.Option(..., "--bin", help="the 12-digit business identification number"),
) -> None:
    """Create a store CODE (like ALA-01)."""
    with command_transaction() as session:
        store = service.create_store(
            session,
            auth_service.command_line(),
            code=code,
            name=name,
            city=city,
            address=address,
            opening_hours=hours,
            legal_name=legal_name,
            bin=bin_,
        )
        line = (
            f"store [bold]{store.code}[/bold] {store.name}, {store.city}"
            f" (receipts {store.receipt_issuer})"
        )
    console.print(line)


@app.command("list")
def list_() -> None:
    """Every store."""
    with command_transaction() as session:
        lines = [
            f"{store.code}\t{store.name}\t{store.city}\t{'active' if store.active else 'closed'}"
            for store in service.list_stores(session, auth_service.command_line())
        ]
    for line in lines:
        console.print(line, highlight=False)
