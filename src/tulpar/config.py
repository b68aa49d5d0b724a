"""Runtime settings, read once from the environment (prefix ``TULPAR_``; ``DATABASE_URL`` as is)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("tulpar", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TULPAR_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "TULPAR_DATABASE_URL")
    )
    data_dir: Path = Field(default_factory=_default_data_dir)
    embedded_database_name: str = "tulpar"
    grace_period_days: int = Field(default=30, ge=0)
    local_timezone: str = "Asia/Almaty"
    environment: str = "development"

    @property
    def is_demo(self) -> bool:
        return self.environment in {"development", "demo"}


@lru_cache
def get_settings() -> Settings:
    return Settings()
