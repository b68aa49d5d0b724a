"""Defect 5: one usage record with an extreme date must be refused on its own, with a code,
while the rest of its batch is stored and rated."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.fixtures.factories import create_active_card, create_plan
from tulpar import clock
from tulpar.cli import app
from tulpar.db import transaction

runner = CliRunner(env={"COLUMNS": "200"})


def _record(card: str, record_id: str, occurred_at: str) -> dict[str, object]:
    return {
        "source": "msc1",
        "record_id": record_id,
        "card": card,
        "kind": "data",
        "quantity": 1_000,
        "occurred_at": occurred_at,
    }


def _stored_ids(session: Session) -> list[str]:
    return list(
        session.execute(text("SELECT record_id FROM usage_records ORDER BY record_id")).scalars()
    )


def test_extreme_and_too_old_dates_are_refused_one_by_one_and_the_rest_is_rated(
    client: TestClient, session: Session, carrier_key: str, frozen_now: datetime
) -> None:
    card, bundle = create_active_card(
        session, plan=create_plan(session, data_bytes=10_000), days_ago=1
    )
    session.commit()
    good = (frozen_now - timedelta(hours=1)).isoformat()
    body = {
        "records": [
            _record(card.iccid, "1", good),
            _record(card.iccid, "2", "0001-01-01T00:00:00+05:00"),
            _record(card.iccid, "3", "9999-12-31T23:59:59-05:00"),
            _record(card.iccid, "4", "1970-01-01T00:00:00+00:00"),
            _record(card.iccid, "5", (frozen_now + timedelta(days=1)).isoformat()),
            _record(card.iccid, "6", good),
        ]
    }

    response = client.post(
        "/v1/usage-records", json=body, headers={"Authorization": f"Bearer {carrier_key}"}
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (2, 0, 4)
    assert [(r["record_id"], r["status"], r["code"]) for r in answer["results"]] == [
        ("1", "accepted", None),
        ("2", "rejected", "occurred_at_out_of_range"),
        ("3", "rejected", "occurred_at_out_of_range"),
        ("4", "rejected", "too_old"),
        ("5", "rejected", "occurred_in_future"),
        ("6", "accepted", None),
    ]
    assert _stored_ids(session) == ["1", "6"]
    session.refresh(bundle)
    assert bundle.data_bytes_remaining == 8_000


def test_the_horizon_and_the_tolerance_are_settings(
    client: TestClient,
    session: Session,
    carrier_key: str,
    frozen_now: datetime,
    configure: object,
) -> None:
    assert callable(configure)
    configure(usage_max_age_days=2, usage_future_tolerance_seconds=7200)
    card, _ = create_active_card(session, plan=create_plan(session, data_bytes=10_000))
    session.commit()
    body = {
        "records": [
            _record(card.iccid, "1", (frozen_now - timedelta(days=3)).isoformat()),
            _record(card.iccid, "2", (frozen_now + timedelta(hours=1)).isoformat()),
        ]
    }

    answer = client.post(
        "/v1/usage-records", json=body, headers={"Authorization": f"Bearer {carrier_key}"}
    ).json()

    assert [(r["status"], r["code"]) for r in answer["results"]] == [
        ("rejected", "too_old"),
        ("accepted", None),
    ]


def test_csv_import_refuses_extreme_dates_per_line_and_rates_the_rest(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    with transaction(committed) as session:
        card, bundle = create_active_card(
            session, plan=create_plan(session, data_bytes=10_000), days_ago=1
        )
        iccid, bundle_id = card.iccid, bundle.id
    at = (clock.now() - timedelta(hours=1)).isoformat()
    csv_file = tmp_path / "cdrs.csv"
    csv_file.write_text(
        "source,record_id,card,kind,quantity,occurred_at\n"
        f"msc1,1,{iccid},data,1000,{at}\n"
        f"msc1,2,{iccid},data,1000,0001-01-01T00:00:00+05:00\n"
        f"msc1,3,{iccid},data,1000,9999-12-31T23:59:59-05:00\n"
        f"msc1,4,{iccid},data,1000,{at}\n",
        encoding="utf-8",
    )

    result = runner.invoke(app, ["usage", "import", str(csv_file)])

    assert result.exit_code == 1, result.output
    assert "line 3: occurred_at" in result.output
    assert "line 4: occurred_at" in result.output
    assert "4 records: 2 accepted and rated, 0 duplicates, 2 rejected" in result.output
    with committed() as session:
        assert _stored_ids(session) == ["1", "4"]
        remaining = session.execute(
            text("SELECT data_bytes_remaining FROM bundles WHERE id = :id"), {"id": bundle_id}
        ).scalar_one()
        assert remaining == 8_000
