"""The USSD channel's own settings (prefix ``TULPAR_USSD_``), read once."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class UssdSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TULPAR_USSD_", extra="ignore")

    # The service codes that are ours, comma-separated; the first is the one texts name.
    service_codes: str = "*100#"
    # How long a dialogue is remembered after its last request (networks close theirs
    # after about three minutes).
    session_ttl_seconds: int = Field(default=300, ge=30)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code.strip() for code in self.service_codes.split(",") if code.strip())

    @property
    def primary_code(self) -> str:
        return self.codes[0] if self.codes else "*100#"


@lru_cache
def get_ussd_settings() -> UssdSettings:
    return UssdSettings()
