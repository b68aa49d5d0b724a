from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema

from tulpar.usage.service import MAX_BATCH_RECORDS


class UsageRecordIn(BaseModel):
    """One CDR. Records are checked one by one, so a bad record is rejected on its own."""

    source: str = Field(max_length=64, description="Who produced the record (e.g. a switch)")
    record_id: str = Field(max_length=128, description="Unique together with source")
    card: str = Field(description="ICCID, MSISDN (E.164) or IMSI")
    kind: Literal["data", "voice", "sms"]
    quantity: int = Field(gt=0, description="Bytes, seconds or messages")
    occurred_at: datetime = Field(description="RFC 3339 with offset")


# Validated record by record in the service, so one bad record cannot refuse the batch.
_LenientRecord = Annotated[dict[str, Any], WithJsonSchema(UsageRecordIn.model_json_schema())]


class UsageBatchIn(BaseModel):
    records: list[_LenientRecord] = Field(min_length=1, max_length=MAX_BATCH_RECORDS)


class UsageRecordResult(BaseModel):
    index: int = Field(description="Position of the record in the batch")
    status: Literal["accepted", "duplicate", "rejected"]
    source: str | None = None
    record_id: str | None = None
    code: str | None = Field(default=None, description="Why it was rejected, for machines")
    reason: str | None = Field(default=None, description="Why it was rejected, for people")


class UsageBatchResult(BaseModel):
    accepted: int = Field(description="Stored and rated now")
    duplicates: int = Field(description="Seen before (this batch or earlier); not rated again")
    rejected: int
    results: list[UsageRecordResult]
