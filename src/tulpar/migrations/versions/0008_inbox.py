"""one inbox for everything the outside sends: payment webhooks and carrier callbacks move
into inbox_messages

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_messages")),
        sa.UniqueConstraint("source", "external_id", name=op.f("uq_inbox_messages_source")),
    )
    op.create_index(
        "ix_inbox_messages_unhandled",
        "inbox_messages",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("handled_at IS NULL"),
    )
    op.create_index(
        "ix_inbox_messages_source_subject", "inbox_messages", ["source", "subject"], unique=False
    )
    # Keep what was received; unhandled messages are picked up by the inbox sweep (their
    # old jobs name tasks that no longer exist).
    op.execute(
        """
        INSERT INTO inbox_messages
            (source, external_id, kind, subject, payload, received_at, handled_at, outcome)
        SELECT provider, event_id, event_type, NULL, payload, received_at, handled_at, outcome
        FROM webhook_events ORDER BY id
        """
    )
    op.execute(
        """
        INSERT INTO inbox_messages
            (source, external_id, kind, subject, payload, received_at, handled_at, outcome)
        SELECT 'carrier', event_id, status, reference, payload, received_at, handled_at,
               outcome
        FROM carrier_callbacks ORDER BY id
        """
    )
    op.execute(
        "SELECT procrastinate_cancel_job_v1(id, false, false) FROM procrastinate_jobs"
        " WHERE status = 'todo'"
        " AND task_name IN ('payment.process_webhook', 'provisioning.handle_callback')"
    )
    op.drop_index("ix_webhook_events_unhandled", table_name="webhook_events")
    op.drop_table("webhook_events")
    op.drop_index("ix_carrier_callbacks_unhandled", table_name="carrier_callbacks")
    op.drop_table("carrier_callbacks")


def downgrade() -> None:
    op.create_table(
        "carrier_callbacks",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_callbacks")),
        sa.UniqueConstraint("event_id", name=op.f("uq_carrier_callbacks_event_id")),
    )
    op.create_index(
        "ix_carrier_callbacks_unhandled",
        "carrier_callbacks",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("handled_at IS NULL"),
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("provider", "event_id", name=op.f("uq_webhook_events_provider")),
    )
    op.create_index(
        "ix_webhook_events_unhandled",
        "webhook_events",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("handled_at IS NULL"),
    )
    op.execute(
        """
        INSERT INTO carrier_callbacks
            (event_id, reference, status, payload, received_at, handled_at, outcome)
        SELECT left(external_id, 100), coalesce(subject, ''), left(kind, 24), payload,
               received_at, handled_at, outcome
        FROM inbox_messages WHERE source = 'carrier' ORDER BY id
        """
    )
    op.execute(
        """
        INSERT INTO webhook_events
            (provider, event_id, event_type, payload, received_at, handled_at, outcome)
        SELECT source, external_id, kind, payload, received_at, handled_at, outcome
        FROM inbox_messages WHERE source <> 'carrier' ORDER BY id
        """
    )
    op.drop_index("ix_inbox_messages_source_subject", table_name="inbox_messages")
    op.drop_index("ix_inbox_messages_unhandled", table_name="inbox_messages")
    op.drop_table("inbox_messages")
