from __future__ import annotations

import typer
from rich.table import Column, Table

from tulpar.catalog import service
from tulpar.cli.common import command_transaction, console
from tulpar.kit.format import format_data, format_minutes, format_money

app = typer.Typer(no_args_is_help=True, help="The plan catalog.")


@app.command("list")
def list_plans() -> None:
    """Show every plan with allowances, validity and prices."""
    with command_transaction() as session:
        plans = service.all_plans(session)
        table = Table("name (en)", "days", "data", "voice", "sms", "prices", "policy")
        table.columns.insert(0, Column("code", no_wrap=True))
        for plan in plans:
            table.add_row(
                plan.code,
                plan.names["en"],
                str(plan.validity_days),
                "unlimited" if plan.data_bytes is None else format_data(plan.data_bytes),
                "unlimited" if plan.voice_seconds is None else format_minutes(plan.voice_seconds),
                "unlimited" if plan.sms_count is None else str(plan.sms_count),
                ", ".join(format_money(p.amount_minor, p.currency) for p in plan.prices),
                plan.renewal_policy.value + (" + rollover" if plan.rollover else ""),
            )
    console.print(table)
