from __future__ import annotations

from alembic import context
from sqlalchemy import pool

import tulpar.models  # noqa: F401 - registers every table
from tulpar.db import build_engine, libpq_url
from tulpar.migrations.env_filters import include_object
from tulpar.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    plain_url = context.config.attributes.get("plain_url") or libpq_url()
    connectable = build_engine(plain_url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
