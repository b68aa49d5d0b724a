"""ledger_check_lookups: the ledger's reference check looks each bundle up by key

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# The check of 0001, with each distinct bundle of the statement's entries looked up by its
# key. Written as an anti-join, the planner costed a hundred key lookups above one scan of
# every bundle and scanned them all for each batch of usage: a fixed cost that grows with the
# table, while the lookups grow with the batch. A bundle of another card, or none, is still
# refused; cards and bundles are never deleted, so the referenced side needs no guard.
_LOOKUPS = """
CREATE OR REPLACE FUNCTION ledger_entries_check_references() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM (SELECT DISTINCT bundle_id, card_id FROM new_entries
                            WHERE bundle_id IS NOT NULL) e
               WHERE (SELECT b.card_id FROM bundles b WHERE b.id = e.bundle_id)
                     IS DISTINCT FROM e.card_id)
       OR EXISTS (SELECT FROM (SELECT DISTINCT card_id FROM new_entries
                               WHERE bundle_id IS NULL) e
                  WHERE NOT EXISTS (SELECT FROM cards c WHERE c.id = e.card_id))
    THEN
        RAISE EXCEPTION 'a ledger entry names a card or bundle that does not exist, or a '
                        'bundle of another card'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'ledger_entries';
    END IF;
    RETURN NULL;
END
$$
"""

_ANTI_JOIN = """
CREATE OR REPLACE FUNCTION ledger_entries_check_references() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM (SELECT DISTINCT bundle_id, card_id FROM new_entries
                            WHERE bundle_id IS NOT NULL) e
               WHERE NOT EXISTS (SELECT FROM bundles b
                                 WHERE b.id = e.bundle_id AND b.card_id = e.card_id))
       OR EXISTS (SELECT FROM (SELECT DISTINCT card_id FROM new_entries
                               WHERE bundle_id IS NULL) e
                  WHERE NOT EXISTS (SELECT FROM cards c WHERE c.id = e.card_id))
    THEN
        RAISE EXCEPTION 'a ledger entry names a card or bundle that does not exist, or a '
                        'bundle of another card'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'ledger_entries';
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(_LOOKUPS)


def downgrade() -> None:
    op.execute(_ANTI_JOIN)
