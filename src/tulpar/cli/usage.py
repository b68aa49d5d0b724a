from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from tulpar.cli.common import console, errors, schema_required
from tulpar.db import transaction
from tulpar.errors import InvalidInputError
from tulpar.kit.text_files import utf8_lines
from tulpar.usage import importer

app = typer.Typer(no_args_is_help=True, help="Usage records (CDRs) from the carrier.")


class _LinesWithProgress:
    """Iterates a file's lines as UTF-8 and moves the progress bar by the bytes read."""

    def __init__(self, path: Path, progress: Progress, task_id: TaskID) -> None:
        self._file = path.open("rb")
        self._lines = utf8_lines(self._file, on_read=self._read)
        self._progress = progress
        self._task_id = task_id
        self._pending = 0

    def __iter__(self) -> _LinesWithProgress:
        return self

    def __next__(self) -> str:
        return next(self._lines)

    def _read(self, size: int) -> None:
        self._pending += size
        if self._pending >= 1 << 20:  # redraw per MiB, not per line
            self._progress.advance(self._task_id, self._pending)
            self._pending = 0

    def close(self) -> None:
        self._file.close()


@app.command("import")
def import_usage(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV file"),
    batch_size: int = typer.Option(
        importer.DEFAULT_BATCH_RECORDS, min=1, max=10_000, help="Records per transaction"
    ),
) -> None:
    """Store and rate usage records from FILE.csv
    (header source,record_id,card,kind,quantity,occurred_at).

    The file is streamed in batches, each committed on its own; records already stored are
    counted as duplicates and never rated twice, so an interrupted import can simply be rerun.
    """
    progress = Progress(
        TextColumn("rating"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[records]:,} records"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with progress:
        task_id = progress.add_task("rating", total=file.stat().st_size, records=0)
        lines = _LinesWithProgress(file, progress, task_id)
        try:
            with schema_required():
                summary = importer.run_import(
                    importer.read_rows(lines),
                    unit_of_work=transaction,
                    batch_records=batch_size,
                    on_batch=lambda so_far: progress.update(task_id, records=so_far.records),
                )
        except importer.ImportStoppedError as stop:
            _print_rejections(stop.summary)
            kept = stop.summary
            errors.print(
                f"[red]error:[/red] {stop.detail}. The import stopped there; the"
                f" {kept.records:,} records before it are stored ({kept.accepted:,} accepted and"
                f" rated, {kept.duplicates:,} duplicates, {kept.rejected:,} rejected). Fix that"
                " line and run the same import again: records already stored come back as"
                " duplicates and are never rated twice.",
                soft_wrap=True,
                highlight=False,
            )
            raise typer.Exit(1) from stop
        except InvalidInputError as error:
            errors.print(f"[red]error:[/red] {error.detail}")
            raise typer.Exit(1) from error
        finally:
            lines.close()
    _print_rejections(summary)
    console.print(
        f"{summary.records:,} records: {summary.accepted:,} accepted and rated, "
        f"{summary.duplicates:,} duplicates, {summary.rejected:,} rejected"
    )
    if summary.rejected:
        raise typer.Exit(1)


def _print_rejections(summary: importer.ImportSummary) -> None:
    for rejection in summary.rejections:
        errors.print(f"[red]line {rejection.line}:[/red] {rejection.reason}")
    if summary.rejected > len(summary.rejections):
        errors.print(f"… and {summary.rejected - len(summary.rejections):,} more rejected lines")
