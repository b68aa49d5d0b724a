from __future__ import annotations

import typer

from tulpar.cli.common import command_transaction, console, errors
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


@app.command("assign")
def assign(
    name: str,
    cards: list[str] = typer.Argument(..., help="ICCIDs or phone numbers"),
    move: bool = typer.Option(
        False, "--move", help="also take cards another partner holds (it loses them)"
    ),
) -> None:
    """Make CARDS (already imported) NAME's to read and renew: no other partner may. A card
    another partner holds is left with it unless --move."""
    with command_transaction() as session:
        result = service.assign_cards(session, name, cards, move=move)
    console.print(f"{len(result.assigned)} cards are {name.strip()}'s")
    for iccid, holder in sorted(result.held_elsewhere.items()):
        errors.print(f"[yellow]{iccid}[/yellow] stays with {holder} (use --move to take it)")
    if result.held_elsewhere:
        raise typer.Exit(1)


@app.command("limit")
def limit(
    name: str,
    per_minute: int | None = typer.Option(
        None, "--per-minute", min=1, help="requests a minute for all of NAME's keys together"
    ),
    off: bool = typer.Option(False, "--off", help="no per-key limit (the default)"),
) -> None:
    """Limit all of NAME's keys together (per web process), or lift the limit with --off.
    The per-card and per-address limits apply either way."""
    if (per_minute is None) == (not off):
        errors.print("[red]error:[/red] give --per-minute N or --off")
        raise typer.Exit(2)
    with command_transaction() as session:
        service.set_requests_per_minute(session, name, per_minute)
    console.print(
        f"{name.strip()}: " + ("no per-key limit" if off else f"{per_minute} requests a minute")
    )
