"""``tulpar carrier-sim`` as an operator runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import httpx

from tests.fixtures.factories import make_iccid


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    stdout = process.stdout
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert lines, "the simulator did not start in time"
    return lines[0]


def test_the_command_serves_the_protocol_and_stops_on_ctrl_c() -> None:
    iccid = make_iccid(99)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tulpar",
            "carrier-sim",
            "--port",
            "0",
            "--permanent-error-iccid",
            iccid,
            "--outage",
            "3600-7200",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        line = _first_line(process, timeout=90)
        url = line.split("(TULPAR_CARRIER_URL=")[1].rstrip(")\n")
        now = datetime.now(UTC)
        answer = httpx.post(
            f"{url}/bundles",
            json={
                "reference": "order-1",
                "iccid": iccid,
                "plan_code": "KZ-7D-5GB",
                "starts_at": now.isoformat(),
                "expires_at": (now + timedelta(days=7)).isoformat(),
            },
            timeout=5,
        )
        assert answer.status_code == 200
        assert answer.json()["status"] == "failed_permanently"
        assert httpx.get(f"{url}/bundles/order-2", timeout=5).status_code == 404
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    assert process.returncode == 0


def test_a_malformed_outage_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tulpar", "carrier-sim", "--outage", "later"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "START-END" in result.stderr
