"""The carrier adapter over HTTP (the protocol in :mod:`.wire`; the simulator speaks it too).

Every call has an explicit timeout and carries our reference, which the carrier treats as an
idempotency key. Timeouts, connection failures, 5xx and unreadable answers raise
:class:`CarrierUnavailableError`; the caller retries."""

from __future__ import annotations

import os
import threading
from typing import Any

import httpx
from pydantic import ValidationError

from tulpar.config import get_settings
from tulpar.integrations.carrier.protocol import (
    ApplyBundleRequest,
    CarrierResponse,
    CarrierStatus,
    CarrierUnavailableError,
)
from tulpar.integrations.carrier.wire import BundleRequest, CarrierAnswer, ServiceRequest

_REFUSALS = {400: "request_refused", 409: "reference_conflict", 422: "request_refused"}


class HttpCarrier:
    def __init__(self, base_url: str | None, *, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        # Pooled connections; each request sets its own timeout.
        self.client = client or httpx.Client(
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20)
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> HttpCarrier:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @classmethod
    def from_settings(cls) -> HttpCarrier:
        """The adapter for ``TULPAR_CARRIER_URL`` (one pooled client per URL)."""
        return _adapter_for(get_settings().carrier_url)

    def apply_bundle(self, request: ApplyBundleRequest, *, timeout: float) -> CarrierResponse:
        body = BundleRequest(
            reference=request.reference,
            iccid=request.iccid,
            msisdn=request.msisdn,
            plan_code=request.plan_code,
            data_bytes=request.data_bytes,
            voice_seconds=request.voice_seconds,
            sms_count=request.sms_count,
            starts_at=request.starts_at,
            expires_at=request.expires_at,
        )
        return self._call(
            "POST", "/bundles", request.reference, timeout, body.model_dump(mode="json")
        )

    def get_status(self, reference: str, *, timeout: float) -> CarrierResponse:
        return self._call("GET", f"/bundles/{reference}", reference, timeout, None)

    def bar_service(
        self, *, reference: str, iccid: str, reason: str, timeout: float
    ) -> CarrierResponse:
        body = ServiceRequest(reference=reference, iccid=iccid, reason=reason)
        return self._call("POST", "/services/bar", reference, timeout, body.model_dump())

    def restore_service(self, *, reference: str, iccid: str, timeout: float) -> CarrierResponse:
        body = ServiceRequest(reference=reference, iccid=iccid)
        return self._call("POST", "/services/restore", reference, timeout, body.model_dump())

    def _call(
        self, method: str, path: str, reference: str, timeout: float, body: dict[str, Any] | None
    ) -> CarrierResponse:
        if self.base_url is None:
            raise CarrierUnavailableError("no carrier configured (set TULPAR_CARRIER_URL)")
        try:
            response = self.client.request(
                method,
                self.base_url + path,
                json=body,
                headers={"Idempotency-Key": reference},
                timeout=httpx.Timeout(timeout),
            )
        except httpx.HTTPError as error:
            raise CarrierUnavailableError(f"{method} {path}: {type(error).__name__}") from error
        status_code = response.status_code
        if status_code in _REFUSALS:
            # The carrier understood and refused this request as such: retrying cannot help.
            return CarrierResponse(
                reference=reference,
                status=CarrierStatus.failed_permanently,
                error_code=_REFUSALS[status_code],
                message=response.text[:200],
            )
        if status_code not in (200, 201, 202, 404):
            # 5xx, 429, auth trouble, redirects: transient or ours to fix; the caller retries.
            raise CarrierUnavailableError(f"{method} {path}: HTTP {status_code}")
        try:
            answer = CarrierAnswer.model_validate_json(response.content)
        except ValidationError as error:
            raise CarrierUnavailableError(f"{method} {path}: unreadable answer") from error
        if answer.reference != reference:
            raise CarrierUnavailableError(f"{method} {path}: answer for another reference")
        return CarrierResponse(
            reference=answer.reference,
            status=answer.status,
            carrier_reference=answer.carrier_reference,
            error_code=answer.error_code,
            message=answer.message,
        )


# One adapter (one pooled, thread-safe client) per URL and process, shared by every job thread.
_adapters: dict[str | None, HttpCarrier] = {}
_adapters_lock = threading.Lock()


def _adapter_for(base_url: str | None) -> HttpCarrier:
    with _adapters_lock:
        adapter = _adapters.get(base_url)
        if adapter is None:
            adapter = _adapters[base_url] = HttpCarrier(base_url)
        return adapter


def close_adapters() -> None:
    """Close the pooled clients of :meth:`HttpCarrier.from_settings` (shutdown, tests)."""
    with _adapters_lock:
        for adapter in _adapters.values():
            adapter.client.close()
        _adapters.clear()


def _forget_adapters_in_child() -> None:
    # A forked child must not share the parent's sockets; it opens its own clients.
    global _adapters_lock
    _adapters.clear()
    _adapters_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_adapters_in_child)
