"""`tulpar cards import FILE --partner NAME` and `tulpar partners assign NAME CARD…`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.fixtures.factories import create_card, make_iccid
from tulpar.cli import app
from tulpar.demo import seed
from tulpar.models import Card, Partner
from tulpar.partner import service as partner_service

runner = CliRunner(env={"COLUMNS": "200"})


def _holders(factory: sessionmaker[Session]) -> dict[str, str | None]:
    with factory() as session:
        rows = session.execute(
            select(Card.iccid, Partner.name).outerjoin(Partner, Partner.id == Card.partner_id)
        ).all()
    return dict(rows)


def _csv(tmp_path: Path, *iccids: str) -> Path:
    path = tmp_path / "cards.csv"
    lines = ["iccid,msisdn"] + [f"{iccid}," for iccid in iccids]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_an_import_for_a_partner_gives_it_every_card_imported(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    with committed() as session:
        partner_service.create_key(session, "Ctrip", scopes=["partner"])
        session.commit()
    iccids = [make_iccid(610_001), make_iccid(610_002)]

    result = runner.invoke(
        app, ["cards", "import", str(_csv(tmp_path, *iccids)), "--partner", "Ctrip"]
    )

    assert result.exit_code == 0, result.output
    assert _holders(committed) == dict.fromkeys(iccids, "Ctrip")


def test_an_import_for_an_unknown_partner_imports_nothing(
    committed: sessionmaker[Session], tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["cards", "import", str(_csv(tmp_path, make_iccid(610_003))), "--partner", "Nobody"]
    )

    assert result.exit_code == 1
    assert "No partner is called 'Nobody'" in result.output
    assert _holders(committed) == {}


def test_assign_gives_imported_cards_and_leaves_another_partners_cards_alone(
    committed: sessionmaker[Session],
) -> None:
    with committed() as session:
        first, _ = partner_service.create_key(session, "First", scopes=["partner"])
        partner_service.create_key(session, "Second", scopes=["partner"])
        free = create_card(session, partner_id=None)
        held = create_card(session, partner_id=first.id)
        session.commit()

    result = runner.invoke(app, ["partners", "assign", "Second", free.iccid, held.iccid])

    assert result.exit_code == 1, result.output
    assert "stays with First" in result.output
    assert _holders(committed) == {free.iccid: "Second", held.iccid: "First"}

    moved = runner.invoke(app, ["partners", "assign", "Second", held.iccid, "--move"])
    assert moved.exit_code == 0, moved.output
    assert _holders(committed) == {free.iccid: "Second", held.iccid: "Second"}


def test_assign_with_an_unknown_card_changes_nothing(committed: sessionmaker[Session]) -> None:
    with committed() as session:
        partner_service.create_key(session, "Second", scopes=["partner"])
        free = create_card(session, partner_id=None)
        session.commit()

    result = runner.invoke(app, ["partners", "assign", "Second", free.iccid, make_iccid(610_099)])

    assert result.exit_code == 1
    assert _holders(committed) == {free.iccid: None}


def test_partners_limit_sets_and_lifts_a_partners_own_limit(
    committed: sessionmaker[Session],
) -> None:
    with committed() as session:
        partner_service.create_key(session, "Big", scopes=["partner"])
        session.commit()

    def limit() -> object:
        with committed() as session:
            return session.execute(text("SELECT requests_per_minute FROM partners")).scalar_one()

    assert runner.invoke(app, ["partners", "limit", "Big", "--per-minute", "600"]).exit_code == 0
    assert limit() == 600
    assert runner.invoke(app, ["partners", "limit", "Big", "--off"]).exit_code == 0
    assert limit() is None
    refused = runner.invoke(app, ["partners", "limit", "Big"])
    assert refused.exit_code == 2
    assert limit() is None


def test_the_demo_partner_holds_the_demo_cards(session: Session, tmp_path: Path) -> None:
    seed.seed(session)
    seed.demo_partner_key(session, tmp_path / "key.txt")

    holders = session.execute(
        select(Card.iccid, Partner.name).join(Partner, Partner.id == Card.partner_id)
    ).all()
    assert dict(holders) == dict.fromkeys(
        (demo.iccid for demo in seed.DEMO_CARDS), seed.DEMO_PARTNER
    )
