from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.fixtures.factories import create_active_card, create_plan
from tulpar import clock
from tulpar.cli import app
from tulpar.db import transaction
from tulpar.usage import importer

runner = CliRunner(env={"COLUMNS": "200"})
HEADER = "source,record_id,card,kind,quantity,occurred_at\n"


def _active_card(committed: sessionmaker[Session]) -> tuple[str, int]:
    with transaction(committed) as session:
        card, bundle = create_active_card(
            session, plan=create_plan(session, data_bytes=10_000), days_ago=1
        )
        return card.iccid, bundle.id


def test_usage_import_rates_good_lines_reports_bad_ones_and_summarises(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    iccid, bundle_id = _active_card(committed)
    at = (clock.now() - timedelta(hours=1)).isoformat()
    csv_file = tmp_path / "cdrs.csv"
    csv_file.write_text(
        HEADER
        + f"msc1,1,{iccid},data,1000,{at}\n"
        + f"msc1,2,{iccid},data,2000,{at}\n"
        + f"msc1,3,{iccid},data,-5,{at}\n"
        + f"msc1,1,{iccid},data,1000,{at}\n"
        + f"msc1,4,{iccid},data\n"
        + f"msc1,5,{iccid},voice,60,{at}\n",
        encoding="utf-8",
    )

    result = runner.invoke(app, ["usage", "import", str(csv_file), "--batch-size", "2"])

    assert result.exit_code == 1, result.output
    assert "line 4: quantity must be a whole number greater than 0" in result.output
    assert "line 6: expected 6 fields, got 4" in result.output
    assert "6 records: 3 accepted and rated, 1 duplicates, 2 rejected" in result.output
    with committed() as session:
        remaining = session.execute(
            text("SELECT data_bytes_remaining FROM bundles WHERE id = :id"), {"id": bundle_id}
        ).scalar_one()
        assert remaining == 7_000

    rerun = runner.invoke(app, ["usage", "import", str(csv_file)])
    assert "6 records: 0 accepted and rated, 4 duplicates, 2 rejected" in rerun.output


def test_usage_import_refuses_a_file_with_the_wrong_header(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    iccid, _ = _active_card(committed)
    csv_file = tmp_path / "cdrs.csv"
    csv_file.write_text(f"iccid,bytes\n{iccid},100\n", encoding="utf-8")

    result = runner.invoke(app, ["usage", "import", str(csv_file)])

    assert result.exit_code == 1
    assert "The header must be source,record_id,card,kind,quantity,occurred_at" in result.output
    with committed() as session:
        assert session.execute(text("SELECT count(*) FROM usage_records")).scalar_one() == 0


def test_the_importer_streams_holding_one_batch_at_a_time(
    committed: sessionmaker[Session],
) -> None:
    iccid, _ = _active_card(committed)
    at = (clock.now() - timedelta(hours=1)).isoformat()
    read = 0
    read_at_each_batch: list[int] = []

    def lines() -> Iterator[str]:
        nonlocal read
        yield HEADER
        for n in range(25):
            read += 1
            yield f"msc1,{n},{iccid},sms,1,{at}\n"

    summary = importer.run_import(
        importer.read_rows(lines()),
        unit_of_work=lambda: transaction(committed),
        batch_records=10,
        on_batch=lambda _: read_at_each_batch.append(read),
    )

    # Each batch is ingested (and committed) as soon as it is full, before more is read.
    assert read_at_each_batch == [10, 20, 25]
    assert (summary.accepted, summary.duplicates, summary.rejected) == (25, 0, 0)
