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
from tulpar.usage import importer

app = typer.Typer(no_args_is_help=True, help="Usage records (CDRs) from the carrier.")


class _LinesWithProgress:
    """Iterates a file's lines and moves the progress bar by the characters read."""

    def __init__(self, path: Path, progress: Progress, task_id: TaskID) -> None:
        self._file = path.open(encoding="utf-8-sig", newline="")
        self._progress = progress
        self._task_id = task_id
        self._pending = 0

    def __iter__(self) -> _LinesWithProgress:
        return self

    def __next__(self) -> str:
        line = next(self._file)
        self._pending += len(line)
        if self._pending >= 1 << 20:  # redraw per MiB, not per line
            self._progress.advance(self._task_id, self._pending)
            self._pending = 0
        return line

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
        except InvalidInputError as error:
            errors.print(f"[red]error:[/red] {error.detail}")
            raise typer.Exit(1) from error
        finally:
            lines.close()
    for rejection in summary.rejections:
        errors.print(f"[red]line {rejection.line}:[/red] {rejection.reason}")
    if summary.rejected > len(summary.rejections):
        errors.print(f"… and {summary.rejected - len(summary.rejections):,} more rejected lines")
    console.print(
        f"{summary.records:,} records: {summary.accepted:,} accepted and rated, "
        f"{summary.duplicates:,} duplicates, {summary.rejected:,} rejected"
    )
    if summary.rejected:
        raise typer.Exit(1)
