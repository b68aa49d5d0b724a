"""``Idempotency-Key`` for POSTs that create something: the same key with the same request
replays the stored response; with a different request it is refused (409). Keys are kept at
least 24 h. Claiming happens inside the request's transaction, so concurrent identical
requests wait for the first one and then replay its answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.config import get_settings
from tulpar.errors import InvalidInputError, TulparError
from tulpar.idempotency import repository

MAX_KEY_LENGTH = 255


class IdempotencyKeyRequiredError(InvalidInputError):
    status = 400
    code = "idempotency_key_required"
    title = "An Idempotency-Key header is required"


class IdempotencyKeyReusedError(TulparError):
    status = 409
    code = "idempotency_key_reused"
    title = "This Idempotency-Key was already used for a different request"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Claim:
    key_id: int
    replay: StoredResponse | None


def request_fingerprint(method: str, path: str, body: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {"method": method.upper(), "path": path, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(session: Session, *, caller: str, key: str | None, fingerprint: str) -> Claim:
    """Take ``key`` for this request, or find the response it already got."""
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise IdempotencyKeyRequiredError(
            f"Send an Idempotency-Key header of 1 to {MAX_KEY_LENGTH} printable characters"
        )
    expires_at = clock.now() + timedelta(hours=get_settings().idempotency_key_retention_hours)
    for _ in range(2):  # a second try only if the row vanished (purged) meanwhile
        key_id = repository.insert_unless_exists(
            session, caller=caller, key=key, request_sha256=fingerprint, expires_at=expires_at
        )
        if key_id is not None:
            return Claim(key_id, None)
        existing = repository.get(session, caller=caller, key=key)
        if existing is None:
            continue
        if existing.request_sha256 != fingerprint:
            raise IdempotencyKeyReusedError(
                "Use a new Idempotency-Key for a different request", idempotency_key=key
            )
        assert existing.response_status is not None
        assert existing.response_body is not None
        return Claim(existing.id, StoredResponse(existing.response_status, existing.response_body))
    raise IdempotencyKeyReusedError("Retry the request")


def store_response(session: Session, claimed: Claim, *, status: int, body: dict[str, Any]) -> None:
    """Remember the answer (in the same transaction as the work it describes)."""
    repository.store_response(session, claimed.key_id, status=status, body=body)


def purge_expired(session: Session, *, now: datetime) -> int:
    return repository.delete_expired(session, now=now)
