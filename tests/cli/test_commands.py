from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.fixtures.factories import create_card, create_plan, make_iccid
from tulpar.cli import app
from tulpar.models import Bundle, Card, LedgerAccount, LedgerCause, LedgerEntry
from tulpar.partner import service as partner_service

runner = CliRunner(env={"COLUMNS": "200"})


def test_partners_create_prints_a_working_key(committed: sessionmaker[Session]) -> None:
    result = runner.invoke(app, ["partners", "create", "Ctrip", "--scope", "carrier"])

    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    with committed() as session:
        identity = partner_service.authenticate(session, key, scope="carrier")
    assert identity.name == "Ctrip"
    assert identity.scopes == frozenset({"carrier"})


def test_partners_create_refuses_an_unknown_scope(committed: sessionmaker[Session]) -> None:
    result = runner.invoke(app, ["partners", "create", "X", "--scope", "root"])
    assert result.exit_code == 1
    assert "Scopes must be among partner, carrier" in result.output
    with committed() as session:
        assert session.execute(text("SELECT count(*) FROM partners")).scalar_one() == 0


def test_bundles_grant_records_the_operator_and_reason_in_the_ledger(
    committed: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "aigerim")
    with committed() as session:
        card = create_card(session)
        create_plan(session, code="KZ-GRANT-7D")
        session.commit()

    result = runner.invoke(
        app, ["bundles", "grant", card.iccid, "kz-grant-7d", "--reason", "goodwill after outage"]
    )

    assert result.exit_code == 0, result.output
    assert "granted KZ-GRANT-7D" in result.output
    with committed() as session:
        entries = session.execute(
            select(LedgerEntry.account, LedgerEntry.cause, LedgerEntry.actor, LedgerEntry.reason)
            .where(LedgerEntry.card_id == card.id)
            .order_by(LedgerEntry.id)
        ).all()
    assert entries == [
        (account, LedgerCause.manual_credit, "cli:aigerim", "goodwill after outage")
        for account in (LedgerAccount.data, LedgerAccount.voice, LedgerAccount.sms)
    ]


def test_bundles_grant_for_an_unknown_card_changes_nothing(
    committed: sessionmaker[Session],
) -> None:
    with committed() as session:
        create_plan(session, code="KZ-GRANT-X")
        session.commit()

    result = runner.invoke(
        app, ["bundles", "grant", make_iccid(4242), "KZ-GRANT-X", "--reason", "r"]
    )

    assert result.exit_code == 1
    assert "Card not found" in result.output
    with committed() as session:
        assert session.scalar(select(func.count()).select_from(Bundle)) == 0


def test_cards_import_reports_bad_lines_and_imports_the_rest(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    good = make_iccid(5001)
    csv_file = tmp_path / "cards.csv"
    csv_file.write_text(
        "iccid,msisdn,imsi,eid,activation_code,language\n"
        f"{good},+77011235001,,,,en\n"
        "8999701000000000016,+77011235002,,,,en\n"
    )

    result = runner.invoke(app, ["cards", "import", str(csv_file)])

    assert result.exit_code == 1
    assert "line 3: The ICCID check digit is wrong" in result.output
    assert "imported 1 cards, 1 rows rejected" in result.output
    with committed() as session:
        assert list(session.scalars(select(Card.iccid))) == [good]


def test_cards_show_and_plans_list(committed: sessionmaker[Session]) -> None:
    with committed() as session:
        card = create_card(session, msisdn="+77011236001")
        create_plan(session, code="KZ-SHOW-7D", data_bytes=None)
        session.commit()

    shown = runner.invoke(app, ["cards", "show", "+7 701 123 6001"])
    listed = runner.invoke(app, ["plans", "list"])

    assert shown.exit_code == 0, shown.output
    assert card.iccid in shown.output
    assert "state: inventory" in shown.output
    assert listed.exit_code == 0, listed.output
    assert "KZ-SHOW-7D" in listed.output
    assert "unlimited" in listed.output
