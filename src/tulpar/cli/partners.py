from __future__ import annotations

import typer

from tulpar.cli.common import command_transaction, console
from tulpar.partner import service

app = typer.Typer(no_args_is_help=True, help="Partner systems and API keys.")


@app.command("create")
def create(
    name: str,
    scope: list[str] = typer.Option(["partner"], "--scope", help="partner (default) or carrier"),
) -> None:
    """Issue an API key for NAME (creating the partner if new). The key is shown once."""
    with command_transaction() as session:
        partner, key = service.create_key(session, name, scopes=scope)
    console.print(f"partner [bold]{partner.name}[/bold] scopes {', '.join(sorted(set(scope)))}")
    console.print(key, soft_wrap=True, highlight=False)
