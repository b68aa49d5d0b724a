from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from tulpar.models import IdempotencyKey


def insert_unless_exists(
    session: Session, *, caller: str, key: str, request_sha256: str, expires_at: datetime
) -> int | None:
    """The new row's id, or None when (caller, key) exists. A concurrent transaction holding
    the same key makes this wait until it commits or rolls back."""
    inserted = session.execute(
        insert(IdempotencyKey)
        .values(caller=caller, key=key, request_sha256=request_sha256, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["caller", "key"])
        .returning(IdempotencyKey.id)
    ).scalar_one_or_none()
    return None if inserted is None else int(inserted)


def get(session: Session, *, caller: str, key: str) -> IdempotencyKey | None:
    query = select(IdempotencyKey).where(IdempotencyKey.caller == caller, IdempotencyKey.key == key)
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def store_response(session: Session, key_id: int, *, status: int, body: dict[str, Any]) -> None:
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == key_id)
        .values(response_status=status, response_body=body)
    )


def delete_expired(session: Session, *, now: datetime) -> int:
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]
