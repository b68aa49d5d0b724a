"""Defect 10: X-Forwarded-For counts only from a configured proxy. Against a real
`tulpar serve` (uvicorn trusts loopback's forwarded headers by default): a forged header
does not get past the per-address OTP cap, unless the proxy it came through is trusted."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy.orm import Session, sessionmaker

CAP = 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serve(database_url: str, **settings: str) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TULPAR_OTP_HOURLY_CAP_PER_ADDRESS": str(CAP),
        **{f"TULPAR_{name.upper()}": value for name, value in settings.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tulpar", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "tulpar serve exited"
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "tulpar serve did not start"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def _codes_with_forged_addresses(base: str, first_card: int) -> list[int]:
    return [
        httpx.post(
            f"{base}/v1/otp",
            json={"card": f"+7701555{first_card + n:04d}"},
            headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
            timeout=10,
        ).status_code
        for n in range(CAP + 1)
    ]


def test_a_forged_forwarded_for_does_not_escape_the_address_cap_by_default(
    database_url: str, committed: sessionmaker[Session]
) -> None:
    with _serve(database_url) as base:
        codes = _codes_with_forged_addresses(base, first_card=1)

    assert codes == [202] * CAP + [429]


def test_a_trusted_proxy_s_forwarded_for_names_the_client(
    database_url: str, committed: sessionmaker[Session]
) -> None:
    with _serve(database_url, trusted_proxies="127.0.0.1") as base:
        codes = _codes_with_forged_addresses(base, first_card=101)

    assert codes == [202] * (CAP + 1)
