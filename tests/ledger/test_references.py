"""The ledger's references are checked per statement (a trigger), not by foreign keys."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card

_INSERT = text(
    """
    INSERT INTO ledger_entries (card_id, bundle_id, account, delta, balance_before,
                                balance_after, cause, actor)
    VALUES (:card_id, :bundle_id, :account, 1, 0, 1, 'manual_credit', 'test')
    """
)


def _entries(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one())


def test_an_entry_for_its_own_cards_bundle_is_stored(session: Session) -> None:
    card, bundle = create_active_card(session)
    before = _entries(session)

    session.execute(_INSERT, {"card_id": card.id, "bundle_id": bundle.id, "account": "data"})

    assert _entries(session) == before + 1


@pytest.mark.parametrize(
    ("card", "bundle", "account"),
    [
        pytest.param("missing", None, "wallet", id="wallet entry of a missing card"),
        pytest.param("missing", "own", "data", id="missing card"),
        pytest.param("own", "missing", "data", id="missing bundle"),
        pytest.param("own", "other", "data", id="bundle of another card"),
    ],
)
def test_an_entry_with_a_broken_reference_is_refused(
    session: Session, card: str, bundle: str | None, account: str
) -> None:
    own_card, own_bundle = create_active_card(session)
    _, other_bundle = create_active_card(session)
    card_ids = {"own": own_card.id, "missing": -1}
    bundle_ids = {"own": own_bundle.id, "other": other_bundle.id, "missing": -1, None: None}
    before = _entries(session)

    with (
        pytest.raises(IntegrityError, match="names a card or bundle that does not exist"),
        session.begin_nested(),
    ):
        session.execute(
            _INSERT,
            {"card_id": card_ids[card], "bundle_id": bundle_ids[bundle], "account": account},
        )

    assert _entries(session) == before
