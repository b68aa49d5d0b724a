"""The simulator's HTTP surface (FastAPI)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tulpar.carrier_sim import background
from tulpar.carrier_sim.book import Book, ReferenceConflictError
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.integrations.carrier.protocol import CarrierStatus
from tulpar.integrations.carrier.wire import BundleRequest, CarrierAnswer, ServiceRequest


def create_app(settings: SimulatorSettings, *, book: Book | None = None) -> FastAPI:
    book = book or Book(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tasks = background.start(book)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(title="Tulpar carrier simulator", version="1", lifespan=lifespan)
    app.state.book = book

    @app.middleware("http")
    async def latency_and_outages(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.startswith("/_sim"):
            return await call_next(request)
        if settings.latency_ms:
            await asyncio.sleep(settings.latency_ms / 1000)
        if book.in_outage():
            return JSONResponse({"detail": "carrier outage (simulated)"}, status_code=503)
        return await call_next(request)

    @app.post("/bundles", response_model=CarrierAnswer)
    def apply_bundle(body: BundleRequest) -> CarrierAnswer | JSONResponse:
        """Apply a bundle; idempotent on ``reference``."""
        try:
            return book.apply(body)
        except ReferenceConflictError:
            return JSONResponse(
                {"detail": "reference already used with a different request"}, status_code=409
            )

    @app.get("/bundles/{reference}", response_model=CarrierAnswer)
    def bundle_status(reference: str) -> CarrierAnswer | JSONResponse:
        """Where a bundle stands; 404 (with status ``unknown``) for a reference never seen."""
        answer = book.status(reference)
        if answer.status is CarrierStatus.unknown:
            return JSONResponse(answer.model_dump(mode="json"), status_code=404)
        return answer

    @app.post("/services/bar", response_model=CarrierAnswer)
    def bar_service(body: ServiceRequest) -> CarrierAnswer:
        return book.bar(body)

    @app.post("/services/restore", response_model=CarrierAnswer)
    def restore_service(body: ServiceRequest) -> CarrierAnswer:
        return book.restore(body)

    @app.get("/_sim/state")
    def state() -> dict[str, object]:
        """What the simulator holds (for people watching the demo)."""
        return book.snapshot()

    return app
