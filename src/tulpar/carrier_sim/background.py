"""What the simulator does on its own: complete pending bundles and tell Tulpar by signed
callback, and (optionally) emit usage records for active cards."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import uuid
from datetime import UTC, datetime

import httpx
import structlog

from tulpar.carrier_sim.book import Book, Booking
from tulpar.integrations.carrier.wire import SIGNATURE_HEADER, CallbackEvent
from tulpar.integrations.signature import sign

log = structlog.get_logger()

TICK_SECONDS = 0.02
HTTP_TIMEOUT = httpx.Timeout(5.0)


def start(book: Book) -> list[asyncio.Task[None]]:
    tasks = []
    if book.settings.is_asynchronous:
        tasks.append(asyncio.create_task(_complete_pending(book)))
    if book.settings.usage_url:
        tasks.append(asyncio.create_task(_emit_usage(book)))
    return tasks


async def _complete_pending(book: Book) -> None:
    deliveries: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
        try:
            while True:
                for booking in book.complete_due():
                    task = asyncio.create_task(_deliver(client, book, booking))
                    deliveries.add(task)
                    task.add_done_callback(deliveries.discard)
                await asyncio.sleep(TICK_SECONDS)
        finally:
            for task in list(deliveries):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def callback_body(booking: Booking) -> bytes:
    assert booking.callback_event_id is not None
    event = CallbackEvent(
        event_id=booking.callback_event_id,
        reference=booking.request.reference,
        status=booking.status,
        carrier_reference=booking.carrier_reference,
        error_code=booking.error_code,
        occurred_at=datetime.now(UTC),
    )
    return event.model_dump_json().encode()


async def _deliver(client: httpx.AsyncClient, book: Book, booking: Booking) -> None:
    """POST the callback, retrying with backoff; the same event id on every try."""
    settings = book.settings
    assert settings.callback_url is not None
    assert settings.callback_secret is not None
    body = callback_body(booking)
    for attempt in range(settings.callback_attempts):
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: sign(settings.callback_secret, body),
        }
        try:
            response = await client.post(settings.callback_url, content=body, headers=headers)
            if response.status_code < 300:
                return
            log.warning("carrier_sim.callback_refused", status=response.status_code)
        except httpx.HTTPError as error:
            log.warning("carrier_sim.callback_failed", error=str(error))
        await asyncio.sleep(min(30.0, 0.2 * 2**attempt))
    log.error("carrier_sim.callback_given_up", reference=booking.request.reference)


async def _emit_usage(book: Book) -> None:
    settings = book.settings
    assert settings.usage_url is not None
    assert settings.usage_key is not None
    rng = random.Random(settings.seed)
    serial = itertools.count(1)
    run = uuid.uuid4().hex[:8]  # record ids stay unique across simulator restarts
    headers = {"authorization": f"Bearer {settings.usage_key}"}
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
        while True:
            await asyncio.sleep(settings.usage_interval_seconds)
            records = [
                {
                    "source": "carrier-sim",
                    "record_id": f"sim-{run}-{next(serial)}",
                    "card": iccid,
                    "kind": "data",
                    "quantity": rng.randrange(1, 50) * 1_000_000,
                    "occurred_at": datetime.now(UTC).isoformat(),
                }
                for iccid in book.active_iccids()
            ]
            if not records:
                continue
            try:
                response = await client.post(
                    settings.usage_url,
                    content=json.dumps({"records": records}),
                    headers={**headers, "content-type": "application/json"},
                )
                log.info(
                    "carrier_sim.usage_sent", records=len(records), status=response.status_code
                )
                if response.status_code < 300:
                    book.record_usage_delivered()
            except httpx.HTTPError as error:
                log.warning("carrier_sim.usage_failed", error=str(error))
