from __future__ import annotations

import getpass

import typer

from tulpar.bundle import service as bundle_service
from tulpar.card import service as card_service
from tulpar.catalog import service as catalog_service
from tulpar.cli.common import command_transaction, console
from tulpar.models import LedgerCause

app = typer.Typer(no_args_is_help=True, help="Bundles (plans applied to cards).")


@app.command("grant")
def grant(
    card: str = typer.Argument(..., help="ICCID or phone number"),
    plan_code: str = typer.Argument(..., help="e.g. KZ-15D-10GB"),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the ledger)"),
) -> None:
    """Apply a plan to a card without payment (support operation, recorded in the ledger)."""
    if not reason.strip():
        console.print("[red]error:[/red] a reason is required")
        raise typer.Exit(1)
    with command_transaction() as session:
        target = card_service.find(session, card)
        plan = catalog_service.get_plan(session, plan_code)
        bundle = bundle_service.apply_plan(
            session,
            target,
            plan,
            cause=LedgerCause.manual_credit,
            actor=f"cli:{getpass.getuser()}",
            reason=reason.strip(),
        )
        console.print(
            f"granted {plan.code} to {target.iccid}: bundle {bundle.id},"
            f" {bundle.state.value}, expires {bundle.expires_at:%Y-%m-%d %H:%M} UTC"
        )
