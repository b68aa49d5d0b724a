from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from tulpar.api.dependencies import CarrierCaller
from tulpar.api.schemas.usage import UsageBatchIn, UsageBatchResult, UsageRecordResult
from tulpar.idempotency import service as idempotency_service
from tulpar.kit.session import DbSession
from tulpar.usage import service

router = APIRouter(prefix="/v1", tags=["usage"])
OptionalIdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Optional: records are idempotent on (source, record_id) anyway; with a key,"
        " a retried batch gets the first answer back instead of 'duplicate' for each record",
    ),
]


@router.post("/usage-records", response_model=UsageBatchResult)
def post_usage_records(
    batch: UsageBatchIn,
    session: DbSession,
    caller: CarrierCaller,
    idempotency_key: OptionalIdempotencyKey = None,
) -> JSONResponse:
    """Store and rate a batch of up to 10,000 usage records (carrier key). Each record is
    answered: ``accepted`` (rated now), ``duplicate`` (same source + record_id seen before,
    never rated twice) or ``rejected`` with a reason; good records go in regardless.

    A record's ``occurred_at`` must lie between the horizon (default 90 days back:
    ``too_old``) and a few minutes ahead (``occurred_in_future``); a time that cannot be
    converted to UTC at all is ``occurred_at_out_of_range``."""
    claim = None
    if idempotency_key is not None:
        claim = idempotency_service.claim(
            session,
            caller=f"carrier:{caller.partner_id}",
            key=idempotency_key,
            fingerprint=idempotency_service.request_fingerprint(
                "POST", "/v1/usage-records", batch.model_dump(mode="json")
            ),
        )
        if claim.replay is not None:
            return JSONResponse(claim.replay.body, status_code=claim.replay.status)
    report = service.ingest(session, batch.records)
    body = UsageBatchResult(
        accepted=report.accepted,
        duplicates=report.duplicates,
        rejected=report.rejected,
        results=[
            UsageRecordResult(
                index=result.position,
                status=result.status,
                source=result.source,
                record_id=result.record_id,
                code=result.code,
                reason=result.reason,
            )
            for result in report.results
        ],
    ).model_dump(mode="json")
    if claim is not None:
        idempotency_service.store_response(session, claim, status=200, body=body)
    return JSONResponse(body)
