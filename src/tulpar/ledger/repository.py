from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from tulpar.models import LedgerEntry


def add(session: Session, entry: LedgerEntry) -> LedgerEntry:
    session.add(entry)
    return entry


_ALLOWANCE_MISMATCHES = text(
    """
    WITH allowances(bundle_id, card_id, account, remaining) AS (
        SELECT id, card_id, 'data', data_bytes_remaining FROM bundles
        WHERE data_bytes_remaining IS NOT NULL
        UNION ALL
        SELECT id, card_id, 'voice', voice_seconds_remaining FROM bundles
        WHERE voice_seconds_remaining IS NOT NULL
        UNION ALL
        SELECT id, card_id, 'sms', sms_count_remaining FROM bundles
        WHERE sms_count_remaining IS NOT NULL
    ), sums AS (
        SELECT bundle_id, account, sum(delta) AS total
        FROM ledger_entries WHERE bundle_id IS NOT NULL
        GROUP BY bundle_id, account
    )
    SELECT a.card_id, a.bundle_id, a.account, a.remaining AS stored,
           coalesce(s.total, 0) AS from_ledger
    FROM allowances a
    LEFT JOIN sums s ON s.bundle_id = a.bundle_id AND s.account = a.account
    WHERE a.remaining <> coalesce(s.total, 0)
      AND (CAST(:card_id AS bigint) IS NULL OR a.card_id = :card_id)
    """
)

_WALLET_MISMATCHES = text(
    """
    SELECT w.card_id, NULL::bigint AS bundle_id, 'wallet' AS account,
           w.balance_minor AS stored, coalesce(s.total, 0) AS from_ledger
    FROM wallets w
    LEFT JOIN (
        SELECT card_id, sum(delta) AS total FROM ledger_entries
        WHERE account = 'wallet' GROUP BY card_id
    ) s ON s.card_id = w.card_id
    WHERE w.balance_minor <> coalesce(s.total, 0)
      AND (CAST(:card_id AS bigint) IS NULL OR w.card_id = :card_id)
    """
)


def mismatches(session: Session, *, card_id: int | None) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for query in (_ALLOWANCE_MISMATCHES, _WALLET_MISMATCHES):
        rows.extend(dict(row._mapping) for row in session.execute(query, {"card_id": card_id}))
    return rows
