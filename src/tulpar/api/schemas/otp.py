from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class OtpRequest(BaseModel):
    card: str = Field(min_length=1, max_length=40, description="ICCID or phone number")


class OtpRequested(BaseModel):
    """The same answer whether or not the card exists."""

    status: Literal["accepted"] = "accepted"
    detail: str = "If this card exists, a 6-digit code was sent by SMS to its phone number."
    code_valid_seconds: int = 300
    resend_after_seconds: int = 60


class OtpVerification(BaseModel):
    card: str = Field(min_length=1, max_length=40, description="ICCID or phone number")
    code: str = Field(pattern=r"^[0-9]{6}$", description="The 6-digit code from the SMS")


class TravellerTokenOut(BaseModel):
    token: str = Field(description="Send as `Authorization: Bearer <token>`")
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: datetime
    card: str = Field(description="The verified card, masked")
