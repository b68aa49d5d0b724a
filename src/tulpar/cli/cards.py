from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.balance import service as balance_service
from tulpar.card import importer
from tulpar.cli.common import command_transaction, console, errors
from tulpar.errors import InvalidInputError
from tulpar.kit.format import format_data, format_minutes, format_money
from tulpar.kit.text_files import UnreadableLineError, utf8_lines
from tulpar.partner import service as partner_service

app = typer.Typer(no_args_is_help=True, help="Cards (eSIMs).")


class _ByteCounter:
    """Reads a file's lines as UTF-8 and reports bytes read, so the progress bar tracks the
    file size."""

    def __init__(self, path: Path, progress: Progress, task_id: object) -> None:
        self._file = path.open("rb")
        self._lines = utf8_lines(
            self._file,
            on_read=lambda size: progress.advance(task_id, size),  # type: ignore[arg-type]
        )

    def __iter__(self) -> _ByteCounter:
        return self

    def __next__(self) -> str:
        return next(self._lines)

    def close(self) -> None:
        self._file.close()


@app.command("import")
def import_cards(
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    partner: str | None = typer.Option(
        None, "--partner", help="the partner selling these cards: only it may read or renew them"
    ),
) -> None:
    """Import cards from FILE.csv (header iccid,msisdn,imsi,eid,activation_code,language).

    Bad rows are reported with their line numbers and import nothing; good rows are imported.
    """
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with progress:
        task_id = progress.add_task("import", total=file.stat().st_size)
        stream = _ByteCounter(file, progress, task_id)
        try:
            with command_transaction() as session:
                seller = None if partner is None else partner_service.named(session, partner).id
                report = importer.import_rows(
                    session, importer.read_rows(stream), partner_id=seller
                )
        except UnreadableLineError as error:
            errors.print(
                f"[red]error:[/red] {error.detail}; nothing was imported (a file goes in whole"
                " or not at all). Fix the file and run the import again: cards already"
                " registered are reported, never registered twice.",
                soft_wrap=True,
                highlight=False,
            )
            raise typer.Exit(1) from error
        except InvalidInputError as error:
            errors.print(f"[red]error:[/red] {error.detail}")
            raise typer.Exit(1) from error
        finally:
            stream.close()
    for row_error in report.errors:
        errors.print(f"[red]line {row_error.line}:[/red] {row_error.message}")
    console.print(f"imported {report.imported} cards, {len(report.errors)} rows rejected")
    if report.errors:
        raise typer.Exit(1)


@app.command("show")
def show(card: str = typer.Argument(..., help="ICCID or phone number")) -> None:
    """State, validity (local time), allowances, wallet and bundles of one card."""
    with command_transaction() as session:
        balance = balance_service.balance_for(session, auth_service.command_line(), card)
    console.print(f"[bold]{balance.iccid}[/bold]  {balance.msisdn or ''}  state: {balance.state}")
    if balance.validity_ends_at is not None:
        console.print(
            f"valid until {clock.to_local(balance.validity_ends_at):%Y-%m-%d %H:%M} (UTC+5)"
        )
    console.print(
        "data: "
        + _allowance(balance.data_bytes.unlimited, balance.data_bytes.remaining, format_data)
        + "   voice: "
        + _allowance(
            balance.voice_seconds.unlimited, balance.voice_seconds.remaining, format_minutes
        )
        + "   sms: "
        + _allowance(balance.sms_count.unlimited, balance.sms_count.remaining, str)
    )
    console.print(f"wallet: {format_money(balance.wallet.amount_minor, balance.wallet.currency)}")
    table = Table("bundle", "plan", "state", "starts (UTC+5)", "expires (UTC+5)", "data left")
    for bundle in balance.bundles:
        table.add_row(
            str(bundle.id),
            bundle.plan_code,
            bundle.state,
            f"{clock.to_local(bundle.starts_at):%Y-%m-%d %H:%M}",
            f"{clock.to_local(bundle.expires_at):%Y-%m-%d %H:%M}",
            _allowance(bundle.data_bytes.unlimited, bundle.data_bytes.remaining, format_data),
        )
    console.print(table)


def _allowance(unlimited: bool, remaining: int | None, render: object) -> str:
    if unlimited:
        return "unlimited"
    assert callable(render)
    return str(render(remaining or 0))
