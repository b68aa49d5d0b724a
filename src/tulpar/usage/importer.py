"""Usage records from a CSV file (header ``source,record_id,card,kind,quantity,occurred_at``),
streamed: only one batch of rows is in memory at a time, each batch is its own transaction.
Re-running an import is safe: records already stored come back as duplicates."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy.orm import Session

from tulpar.errors import InvalidInputError
from tulpar.kit.text_files import UnreadableLineError, csv_records
from tulpar.usage import service
from tulpar.usage.validation import FIELDS

DEFAULT_BATCH_RECORDS = 5_000
KEPT_REJECTIONS = 50


@dataclass(frozen=True, slots=True)
class LineRejection:
    line: int
    reason: str


@dataclass(slots=True)
class ImportSummary:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    # The first rejections only, so a huge bad file cannot fill memory.
    rejections: list[LineRejection] = field(default_factory=list)

    @property
    def records(self) -> int:
        return self.accepted + self.duplicates + self.rejected


class ImportStoppedError(InvalidInputError):
    """Line ``line`` could not be read: the import stopped there, with every record before
    it stored (``summary``)."""

    code = "import_stopped"
    title = "The import stopped at an unreadable line"

    def __init__(self, cause: UnreadableLineError, summary: ImportSummary) -> None:
        super().__init__(cause.detail)
        self.line = cause.line
        self.summary = summary


def read_rows(stream: IO[str] | Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) pairs after checking the header. A file that cannot be read as CSV
    stops with :class:`~tulpar.kit.text_files.UnreadableLineError` at its line."""
    reader = csv.reader(stream)
    records = csv_records(reader, lambda: reader.line_num)
    header = [name.strip() for name in next(records, [])]
    if tuple(header) != FIELDS and sorted(header) != sorted(FIELDS):
        raise InvalidInputError(f"The header must be {','.join(FIELDS)}")
    width = len(header)
    for cells in records:
        if not cells:
            continue
        if len(cells) != width:
            yield reader.line_num, {"__malformed__": f"expected {width} fields, got {len(cells)}"}
            continue
        yield reader.line_num, dict(zip(header, cells, strict=True))


def run_import(
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    unit_of_work: Callable[[], AbstractContextManager[Session]],
    batch_records: int = DEFAULT_BATCH_RECORDS,
    on_batch: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Ingest ``rows`` in batches, each inside a fresh ``unit_of_work()`` transaction. A line
    that cannot be read stops the import with :class:`ImportStoppedError`, after storing
    every record before it."""
    summary = ImportSummary()
    batch: list[tuple[int, dict[str, str]]] = []
    try:
        for line, row in rows:
            if "__malformed__" in row:
                _reject(summary, line, row["__malformed__"])
                continue
            batch.append((line, row))
            if len(batch) >= batch_records:
                _ingest(batch, summary, unit_of_work)
                batch = []
                if on_batch is not None:
                    on_batch(summary)
    except UnreadableLineError as error:
        if batch:
            _ingest(batch, summary, unit_of_work)
        raise ImportStoppedError(error, summary) from None
    if batch:
        _ingest(batch, summary, unit_of_work)
    if on_batch is not None:
        on_batch(summary)
    return summary


def _ingest(
    batch: list[tuple[int, dict[str, str]]],
    summary: ImportSummary,
    unit_of_work: Callable[[], AbstractContextManager[Session]],
) -> None:
    with unit_of_work() as session:
        report = service.ingest(session, [row for _, row in batch])
    summary.accepted += report.accepted
    summary.duplicates += report.duplicates
    for result in report.results:
        if result.status == service.REJECTED:
            _reject(summary, batch[result.position][0], result.reason or "rejected")


def _reject(summary: ImportSummary, line: int, reason: str) -> None:
    summary.rejected += 1
    if len(summary.rejections) < KEPT_REJECTIONS:
        summary.rejections.append(LineRejection(line, reason))
