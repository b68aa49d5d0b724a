"""Defect 8: request bodies are capped per route and refused with 413 before they are read."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Message

from tulpar.app import create_app


def _challenges(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM otp_challenges")).scalar_one())


def test_a_declared_200_mb_body_is_refused_without_reading_a_byte(
    session_factory: sessionmaker[Session],
) -> None:
    app = create_app(session_factory)
    reads = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * 65_536, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/webhooks/sandbox",
        "raw_path": b"/webhooks/sandbox",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(200 * 1024 * 1024).encode()),
        ],
        "client": ("127.0.0.1", 50_000),
        "server": ("testserver", 80),
        "state": {},
    }

    asyncio.run(app(scope, receive, send))

    assert reads == 0
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 413
    assert b"body_too_large" in b"".join(m.get("body", b"") for m in sent)


def test_an_oversized_otp_request_is_refused_and_nothing_is_stored(
    client: TestClient, session: Session
) -> None:
    body = b'{"card": "+77011234567", "padding": "' + b"x" * 100_000 + b'"}'

    response = client.post("/v1/otp", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "body_too_large"
    assert _challenges(session) == 0


def test_a_chunked_body_is_counted_as_it_streams_and_refused_past_the_cap(
    client: TestClient, session: Session
) -> None:
    streamed = 0

    def chunks() -> Iterator[bytes]:
        nonlocal streamed
        yield b'{"card": "+77011234567", "padding": "'
        for _ in range(1_000):  # 16 MB if it were all read
            streamed += 1
            yield b"x" * 16_384
        yield b'"}'

    response = client.post(
        "/v1/otp", content=chunks(), headers={"content-type": "application/json"}
    )

    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert _challenges(session) == 0


def test_usage_batches_have_a_larger_cap_and_small_bodies_pass(
    client: TestClient, carrier_key: str, configure: object
) -> None:
    records = [
        {
            "source": "msc1",
            "record_id": str(n),
            "card": "+77011234567",
            "kind": "data",
            "quantity": 1,
            "occurred_at": "2026-11-24T10:00:00+05:00",
        }
        for n in range(1_000)
    ]  # about 130 KB: over the default cap, under the usage cap

    response = client.post(
        "/v1/usage-records",
        json={"records": records},
        headers={"Authorization": f"Bearer {carrier_key}"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 1_000  # no such card: read, checked, answered


def test_the_caps_are_settings(
    session_factory: sessionmaker[Session], configure: object, session: Session
) -> None:
    assert callable(configure)
    configure(max_body_bytes=2048)
    with TestClient(create_app(session_factory)) as small:
        response = small.post("/v1/otp", json={"card": "+77011234567", "pad": "x" * 3000})
    assert response.status_code == 413
    assert _challenges(session) == 0
