"""Bulk card import from CSV: every row validated on its own; a bad row imports nothing and
is reported with its line number; good rows go in."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tulpar.card import service as card_service
from tulpar.errors import CardAlreadyExistsError, InvalidInputError
from tulpar.identifiers import ActivationCode, Eid, Iccid, Msisdn
from tulpar.kit.text_files import UnreadableLineError, csv_records
from tulpar.models import LANGUAGES

REQUIRED_COLUMNS = ("iccid", "msisdn")
OPTIONAL_COLUMNS = ("imsi", "eid", "activation_code", "language")
_IMSI = re.compile(r"^[0-9]{14,15}$")
_LANGUAGE_ALIASES = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-hans": "zh-Hans", "cn": "zh-Hans"}


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)


def parse_row(row: dict[str, str]) -> card_service.NewCard:
    """Validate one CSV row; raises :class:`InvalidInputError` with a message for people."""

    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    if not cell("iccid"):
        raise InvalidInputError("iccid is empty")
    iccid = Iccid.parse(cell("iccid"))
    msisdn = Msisdn.parse(cell("msisdn")) if cell("msisdn") else None
    imsi = cell("imsi") or None
    if imsi is not None and not _IMSI.match(imsi):
        raise InvalidInputError("imsi must have 14 or 15 digits")
    eid = Eid.parse(cell("eid")) if cell("eid") else None
    code = ActivationCode.parse(cell("activation_code")) if cell("activation_code") else None
    language = cell("language") or "zh-Hans"
    language = _LANGUAGE_ALIASES.get(language.lower(), language)
    if language not in LANGUAGES:
        raise InvalidInputError(f"language must be one of {', '.join(LANGUAGES)}")
    return card_service.NewCard(
        iccid=iccid, msisdn=msisdn, imsi=imsi, eid=eid, activation_code=code, language=language
    )


def read_rows(stream: IO[str] | Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) pairs; checks the header first. A file that cannot be read as CSV
    stops with :class:`~tulpar.kit.text_files.UnreadableLineError` at its line."""
    reader = csv.DictReader(stream)
    try:
        fieldnames = reader.fieldnames
    except csv.Error as error:
        raise UnreadableLineError(reader.reader.line_num, f"not valid CSV ({error})") from None
    header = [name.strip() for name in fieldnames or []]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown:
        raise InvalidInputError(
            "The header must be iccid,msisdn,imsi,eid,activation_code,language"
            f" (missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'})"
        )
    reader.fieldnames = header
    # DictReader updates its own line_num only after a good row: the inner reader's counts
    # the line that failed.
    for row in csv_records(reader, lambda: reader.reader.line_num):
        if None in row:
            yield reader.line_num, {"__extra__": "too many fields"}
            continue
        yield reader.line_num, {key: value or "" for key, value in row.items()}


def import_rows(
    session: Session,
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    on_row: Callable[[], None] | None = None,
    partner_id: int | None = None,
) -> ImportReport:
    """Register each valid row in its own savepoint so one bad row cannot spoil the others;
    with ``partner_id``, every card imported is that partner's to sell."""
    report = ImportReport()
    for line, row in rows:
        try:
            if "__extra__" in row:
                raise InvalidInputError("this row has more fields than the header")
            new_card = parse_row(row)
            with session.begin_nested():
                card_service.register(session, new_card, partner_id=partner_id)
            report.imported += 1
        except (InvalidInputError, CardAlreadyExistsError) as error:
            report.errors.append(RowError(line, error.detail))
        except IntegrityError:
            report.errors.append(RowError(line, "conflicts with a card already registered"))
        if on_row is not None:
            on_row()
    return report
