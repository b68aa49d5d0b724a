"""Log lines never carry secrets, codes, tokens, passwords or full card numbers, whoever
writes them (our structlog loggers or a library's standard logging); JSON in production."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
import uvicorn

from tulpar.config import Settings
from tulpar.kit.logging import configure_logging

ICCID = "8999701000000000015"
MSISDN = "+77011000001"
CODE = "482913"
TOKEN = "tvt_Q2hhbmdlTWVQbGVhc2UxMjM0NTY3"
SECRET = "whsec_super_secret_value_987"
PASSWORD = "hunter2-correct-horse"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    # As any uvicorn server started in this process before leaves it (a simulator's, at
    # "warning"): our configuration, not the last server's, decides what is logged.
    uvicorn.Config(lambda: None, log_level="warning")
    stream = io.StringIO()
    configure_logging(Settings(environment="production", database_url=None), stream=stream)
    yield stream
    configure_logging(Settings(database_url=None))


def test_secrets_codes_and_card_numbers_are_masked_in_every_line(lines: io.StringIO) -> None:
    log = structlog.get_logger("tulpar.test")
    log.info(
        "otp.sent",
        iccid=ICCID,
        msisdn=MSISDN,
        code=CODE,
        token=TOKEN,
        webhook_secret=SECRET,
        password=PASSWORD,
        headers={"Authorization": f"Bearer {TOKEN}", "X-Request-ID": "req-12345678"},
    )
    log.warning(f"card {ICCID} asked for a code: {CODE} with token={TOKEN}")
    logging.getLogger("uvicorn.access").info(
        '127.0.0.1 - "GET /v1/cards/%s/balance HTTP/1.1" 200, Authorization: Bearer %s',
        MSISDN,
        TOKEN,
    )
    logging.getLogger("some.library").error("login password=%s secret: %s", PASSWORD, SECRET)

    text = lines.getvalue()
    for value in (ICCID, MSISDN, MSISDN[1:], CODE, TOKEN, SECRET, PASSWORD):
        assert value not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == 4  # one JSON object per line
    first = records[0]
    assert first["iccid"] == "…0015"
    assert first["msisdn"] == "…0001"
    assert first["code"] == first["token"] == first["webhook_secret"] == "[redacted]"
    assert first["headers"]["X-Request-ID"] == "req-12345678"  # harmless values stay
    assert "…0015" in records[1]["event"]
    assert "/v1/cards/…0001/balance" in records[2]["event"]


def test_a_server_told_to_keep_no_access_log_keeps_none() -> None:
    uvicorn.Config(lambda: None, access_log=False)  # as `uvicorn --no-access-log` leaves it
    stream = io.StringIO()
    configure_logging(Settings(environment="production", database_url=None), stream=stream)
    try:
        logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /healthz HTTP/1.1" 200')
        logging.getLogger("uvicorn.error").info("Application startup complete.")
        events = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
        assert events == ["Application startup complete."]
    finally:
        uvicorn.Config(lambda: None)  # an access log again, for what runs next here
        configure_logging(Settings(database_url=None))


def test_the_request_id_bound_for_a_request_is_on_its_lines(lines: io.StringIO) -> None:
    with structlog.contextvars.bound_contextvars(request_id="req-abcdef12"):
        structlog.get_logger().info("order.placed", order_id=42)
        logging.getLogger("procrastinate").info("deferred")
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert [r["request_id"] for r in records] == ["req-abcdef12", "req-abcdef12"]
    assert records[0]["order_id"] == 42


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_each_request_and_deferral_is_told_only_under_debug(level: str) -> None:
    stream = io.StringIO()
    settings = Settings(environment="production", database_url=None, log_level=level)
    configure_logging(settings, stream=stream)
    try:
        logging.getLogger("httpx").info("HTTP Request: POST http://127.0.0.1/hooks 200")
        logging.getLogger("procrastinate.jobs").info("Deferred 1 job")
        logging.getLogger("httpx").warning("connection reset")
        logging.getLogger("procrastinate.worker").info("Job succeeded")
        events = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
    finally:
        configure_logging(Settings(database_url=None))
    told_only_under_debug = ["HTTP Request: POST http://127.0.0.1/hooks 200", "Deferred 1 job"]
    told_always = ["connection reset", "Job succeeded"]
    expected = [*told_only_under_debug, *told_always] if level == "DEBUG" else told_always
    assert events == expected
