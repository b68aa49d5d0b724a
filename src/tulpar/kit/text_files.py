"""Reading the lines of a CSV file people hand us: UTF-8 (a leading BOM is dropped), each line
checked as it is read, so a file that is not text fails with its line number, not a traceback,
and one endless line cannot fill memory."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from typing import IO, TypeVar

MAX_LINE_BYTES = 1 << 20  # a row of six fields at the csv module's 128 KiB limit fits
T = TypeVar("T")


class UnreadableLineError(ValueError):
    """Line ``line`` of a file cannot be read (not UTF-8, too long, broken CSV). Not a
    business error: whoever reads the file says what became of the lines before it."""

    def __init__(self, line: int, problem: str) -> None:
        self.detail = f"line {line:,}: {problem}"
        super().__init__(self.detail)
        self.line = line


def utf8_lines(
    file: IO[bytes],
    *,
    on_read: Callable[[int], None] | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[str]:
    """The lines of ``file`` as text, with their line endings (for :mod:`csv`); ``on_read``
    is told how many bytes each line had."""
    number = 0
    while raw := file.readline(max_line_bytes + 1):
        number += 1
        if on_read is not None:
            on_read(len(raw))
        if len(raw) > max_line_bytes:
            raise UnreadableLineError(number, f"the line is longer than {max_line_bytes:,} bytes")
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise UnreadableLineError(
                number,
                f"not UTF-8 text (byte 0x{raw[error.start]:02x} at position {error.start + 1});"
                " is this a CSV file saved as UTF-8?",
            ) from None
        yield line


def csv_records(reader: Iterator[T], line_number: Callable[[], int]) -> Iterator[T]:
    """The records of a :mod:`csv` reader, a broken one (a field over the csv module's limit,
    a NUL byte, a stray quote) failing as :class:`UnreadableLineError` at its line."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise UnreadableLineError(line_number(), _csv_problem(error)) from None
        yield record


def _csv_problem(error: csv.Error) -> str:
    message = str(error)
    if "field larger than field limit" in message:
        return f"a field is longer than {csv.field_size_limit():,} characters"
    return f"not valid CSV ({message})"
