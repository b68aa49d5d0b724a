"""Alembic, driven from code so ``tulpar db upgrade`` works wherever Tulpar is installed."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(plain_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if plain_url is not None:
        config.attributes["plain_url"] = plain_url
    return config


def upgrade(plain_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(plain_url), revision)


def downgrade(plain_url: str, revision: str) -> None:
    command.downgrade(alembic_config(plain_url), revision)


@lru_cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head
