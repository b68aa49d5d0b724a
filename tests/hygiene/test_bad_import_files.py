"""Defect 11: an unreadable import file gives one line naming the line, what was kept and how
to resume, never a traceback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from tests.fixtures.factories import create_active_card, create_plan, make_iccid
from tulpar import clock
from tulpar.cli import app
from tulpar.db import transaction
from tulpar.models import Card

runner = CliRunner(env={"COLUMNS": "200"})
CARDS_HEADER = b"iccid,msisdn,imsi,eid,activation_code,language\n"
USAGE_HEADER = "source,record_id,card,kind,quantity,occurred_at\n"


def _one_clean_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def _cards(committed: sessionmaker[Session]) -> int:
    with committed() as session:
        return int(session.scalar(select(func.count()).select_from(Card)) or 0)


def _card_line(serial: int) -> bytes:
    return f"{make_iccid(serial)},+7701123{serial:04d},,,,en\n".encode()


def test_cards_import_of_invalid_utf8_names_the_line_and_imports_nothing(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    csv_file = tmp_path / "cards.csv"
    csv_file.write_bytes(CARDS_HEADER + _card_line(6001) + b"\xff\xfe,broken\n" + _card_line(6002))

    error = _one_clean_error(runner.invoke(app, ["cards", "import", str(csv_file)]))

    assert "line 3" in error
    assert "UTF-8" in error
    assert "nothing was imported" in error
    assert "run the import again" in error
    assert _cards(committed) == 0


def test_cards_import_of_a_binary_file_is_refused_in_one_line(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    binary = tmp_path / "photo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 64)

    error = _one_clean_error(runner.invoke(app, ["cards", "import", str(binary)]))

    assert "line 1" in error
    assert "nothing was imported" in error
    assert _cards(committed) == 0


def test_cards_import_with_a_field_over_128_kib_names_the_line(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    csv_file = tmp_path / "cards.csv"
    huge = f"{make_iccid(6003)},+77011236003,{'1' * 200_000},,,en\n".encode()
    csv_file.write_bytes(CARDS_HEADER + _card_line(6004) + huge)

    error = _one_clean_error(runner.invoke(app, ["cards", "import", str(csv_file)]))

    assert "line 3" in error
    assert "nothing was imported" in error
    assert _cards(committed) == 0


def test_usage_import_stopped_by_invalid_utf8_keeps_what_came_before_and_resumes_safely(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    with transaction(committed) as session:
        card, bundle = create_active_card(
            session, plan=create_plan(session, data_bytes=100_000), days_ago=1
        )
        iccid, bundle_id = card.iccid, bundle.id
    at = (clock.now() - timedelta(hours=1)).isoformat()
    good = [f"msc1,{n},{iccid},data,100,{at}\n".encode() for n in range(1, 11)]
    bad = f"msc1,bad,{iccid},data,100,{at}\xff\n".encode("latin-1")
    csv_file = tmp_path / "cdrs.csv"
    # line 1 the header, lines 2-6 records 1-5, line 7 broken, then records 6-10
    csv_file.write_bytes(USAGE_HEADER.encode() + b"".join(good[:5]) + bad + b"".join(good[5:]))

    result = runner.invoke(app, ["usage", "import", str(csv_file), "--batch-size", "2"])

    error = _one_clean_error(result)
    assert "line 7" in error
    assert "UTF-8" in error
    assert "5 records before it are stored" in error
    assert "run the same import again" in error
    assert "never rated twice" in error
    with committed() as session:
        stored = list(
            session.execute(text("SELECT record_id FROM usage_records ORDER BY id")).scalars()
        )
        assert stored == ["1", "2", "3", "4", "5"]

    csv_file.write_bytes(USAGE_HEADER.encode() + b"".join(good))  # the line fixed (dropped)
    rerun = runner.invoke(app, ["usage", "import", str(csv_file)])

    assert rerun.exit_code == 0, rerun.output
    assert "10 records: 5 accepted and rated, 5 duplicates, 0 rejected" in rerun.output
    with committed() as session:
        remaining = session.execute(
            text("SELECT data_bytes_remaining FROM bundles WHERE id = :id"), {"id": bundle_id}
        ).scalar_one()
        assert remaining == 100_000 - 10 * 100
