"""The ``smpp`` provider: SMPP 3.4 over TCP with aiosmpplib's asyncio ESME.

How a synchronous job talks to an asyncio session: each process that sends (a worker) owns
one provider, and the provider owns one background thread running an event loop with one
persistent ``bind_transceiver`` (aiosmpplib reconnects and rebinds by itself, and keeps the
link alive with enquire_link). A job thread calls :meth:`SmppProvider.send`, which hands the
submission to that loop and waits for the ``submit_sm_resp`` of every part, bounded by a
timeout. The job has no database transaction open meanwhile (``notification.tasks.deliver``
reads, commits, sends, then records). Binding once per process instead of per message spares
the SMSC a bind per SMS (most limit binds per account and rate binds, not just submits), and
lets delivery receipts and inbound messages arrive on the same session at any time.

What the loop enforces: a submit window (at most ``window`` submit_sm awaiting a response),
a send rate (aiosmpplib's token bucket), and ESME_RTHROTTLED / ESME_RMSGQFUL answered by
waiting and submitting that part again (a few times, growing waits); past that the send fails
as transient and the job retries later.

Texts are cut here, not by aiosmpplib (whose GSM-7 split counts characters, so text with
``€{}`` produced parts over 153 septets): :func:`encoding.split` cuts by septets / UTF-16
units, each part gets a 6-octet concatenation header (UDHI), UCS-2 goes as
``data_coding=8``. Every part has its own message id, kept as the string the SMSC sent.

SMPP has no idempotency key. Within a process the provider remembers which parts of a
message were accepted (even when the answer came after we stopped waiting), so a retry
submits only what is missing; a crash between the SMSC's answer and our record can still
send a message twice, which is the protocol's limit.

Delivery receipts (``deliver_sm`` with esm_class 0x04, ``id:… stat:… err:…``) and inbound
texts are handed to the ``on_inbound`` sink before the ``deliver_sm_resp`` is sent: if the
sink fails, the session is dropped unacknowledged and the SMSC delivers it again."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import uuid
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import cast

import structlog
from aiosmpplib import (  # type: ignore[import-untyped]  # ships no types
    ESME,
    NPI,
    TON,
    AbstractHook,
    DeliverSm,
    PhoneNumber,
    SmppCommandStatus,
    SmppMessage,
    SmppSessionState,
    SubmitSm,
    SubmitSmResp,
)
from aiosmpplib.log import WARNING, StructuredLogger  # type: ignore[import-untyped]
from aiosmpplib.ratelimiter import SimpleRateLimiter  # type: ignore[import-untyped]
from aiosmpplib.retrytimer import SimpleExponentialBackoff  # type: ignore[import-untyped]

from tulpar.integrations.sms import encoding
from tulpar.integrations.sms.protocol import (
    DeliveryReport,
    InboundSink,
    InboundSms,
    SmsMessage,
    SmsProviderError,
    SmsReceipt,
)

log = structlog.get_logger()

# Answers meaning "slow down": wait and submit the same part again.
THROTTLED = frozenset({SmppCommandStatus.ESME_RTHROTTLED, SmppCommandStatus.ESME_RMSGQFUL})
# Answers meaning "not now": the job retries later. Anything else is about the message itself.
TRANSIENT = THROTTLED | {
    SmppCommandStatus.ESME_RSYSERR,
    SmppCommandStatus.ESME_RSUBMITFAIL,
    SmppCommandStatus.ESME_RX_T_APPN,
}
# How many sent messages' part ids a process remembers for retries.
REMEMBERED_MESSAGES = 10_000
UDHI = 0x40


@dataclass(frozen=True, slots=True)
class SmppConfig:
    host: str
    port: int
    system_id: str
    password: str
    sender: str
    system_type: str = ""
    window: int = 10
    rate_per_second: float = 20.0
    submit_timeout_seconds: float = 10.0
    connect_timeout_seconds: float = 5.0
    throttle_retries: int = 4
    throttle_backoff_seconds: float = 0.5
    enquire_link_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class _Answer:
    status: SmppCommandStatus
    message_id: str


class SmppProvider:
    name = "smpp"

    def __init__(self, config: SmppConfig, *, on_inbound: InboundSink | None = None) -> None:
        self.config = config
        self.on_inbound = on_inbound
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._esme: ESME | None = None
        self._session: asyncio.Future[None] | None = None
        self._window: asyncio.Semaphore | None = None
        self._waiting: dict[str, asyncio.Future[_Answer]] = {}
        self._part_of: dict[str, tuple[str, int]] = {}  # log id → (message key, part)
        self._accepted: OrderedDict[str, dict[int, str]] = OrderedDict()

    # -- the synchronous side (job threads) ---------------------------------------------

    def start(self) -> None:
        """Start the loop thread and the bind, once; sends also start them when needed."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="smpp-session", daemon=True
                )
                self._thread.start()
            loop = self._loop
        asyncio.run_coroutine_threadsafe(self._ensure_session(), loop).result(timeout=5)

    def send(self, message: SmsMessage) -> SmsReceipt:
        self.start()
        assert self._loop is not None
        parts = len(encoding.split(message.text).parts)
        # Each part may wait for the window, its answer and its throttling retries.
        budget = self.config.connect_timeout_seconds + parts * (
            self.config.submit_timeout_seconds
            + self.config.throttle_backoff_seconds * 2 ** (self.config.throttle_retries + 1)
        )
        future = asyncio.run_coroutine_threadsafe(self._send(message), self._loop)
        try:
            return future.result(timeout=budget)
        except concurrent.futures.TimeoutError as error:
            future.cancel()
            raise SmsProviderError(f"SMSC did not answer within {budget:.0f} s") from error

    def close(self) -> None:
        """Unbind and stop the loop thread (tests, shutdown)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._stop_session(), loop).result(timeout=5)
        except (concurrent.futures.TimeoutError, OSError):
            log.warning("sms.smpp.unbind_timeout")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        if not thread.is_alive():
            _finish_loop(loop)

    def is_bound(self) -> bool:
        esme = self._esme
        return esme is not None and esme.session_state == SmppSessionState.BOUND_TRX

    # -- the loop side -----------------------------------------------------------------

    async def _ensure_session(self) -> None:
        if self._session is not None and not self._session.done():
            return
        if self._session is not None and self._session.done() and not self._session.cancelled():
            error = self._session.exception()
            log.warning("sms.smpp.session_ended", error=repr(error))
        self._window = asyncio.Semaphore(self.config.window)
        self._esme = ESME(
            smsc_host=self.config.host,
            smsc_port=self.config.port,
            system_id=self.config.system_id,
            password=self.config.password,
            system_type=self.config.system_type,
            enquire_link_interval=float(self.config.enquire_link_seconds),
            socket_timeout=float(self.config.connect_timeout_seconds),
            hook=_Hook(self),
            rate_limiter=_RateLimiter(self.config.rate_per_second),
            retry_timer=SimpleExponentialBackoff(min_delay=200, max_increases=6),
            log_level=WARNING,
        )
        self._session = asyncio.ensure_future(self._esme.start())

    async def _stop_session(self) -> None:
        esme, session = self._esme, self._session
        if esme is None or session is None:
            return
        with contextlib.suppress(TimeoutError, OSError):
            await asyncio.wait_for(esme.stop(), timeout=2)
        session.cancel()
        await asyncio.gather(session, return_exceptions=True)

    async def _wait_bound(self) -> ESME:
        await self._ensure_session()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.connect_timeout_seconds
        while not self.is_bound():
            if loop.time() >= deadline:
                raise SmsProviderError(
                    f"SMSC {self.config.host}:{self.config.port} is not bound"
                    f" after {self.config.connect_timeout_seconds:.0f} s"
                )
            await asyncio.sleep(0.02)
        assert self._esme is not None
        return self._esme

    async def _send(self, message: SmsMessage) -> SmsReceipt:
        esme = await self._wait_bound()
        cut = encoding.split(message.text)
        key = message.idempotency_key
        accepted = self._remember(key)
        missing = [number for number in range(1, len(cut.parts) + 1) if number not in accepted]
        outcomes = await asyncio.gather(
            *(self._submit_part(esme, message, cut, number) for number in missing),
            return_exceptions=True,
        )
        errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        if errors:
            permanent = [e for e in errors if isinstance(e, SmsProviderError) and e.permanent]
            first = (permanent or errors)[0]
            if isinstance(first, SmsProviderError):
                raise first
            raise SmsProviderError(f"SMPP submit failed: {first!r}") from first
        ids = tuple(accepted[number] for number in range(1, len(cut.parts) + 1))
        return SmsReceipt(
            provider=self.name, provider_message_id=ids[0], state="sent", part_message_ids=ids
        )

    async def _submit_part(
        self, esme: ESME, message: SmsMessage, cut: encoding.Split, number: int
    ) -> str:
        total = len(cut.parts)
        payload = encoding.encode(cut.parts[number - 1], cut.encoding)
        if total > 1:
            reference = zlib.crc32(message.idempotency_key.encode())
            payload = encoding.concatenation_header(reference, total, number) + payload
        for attempt in range(self.config.throttle_retries + 1):
            answer = await self._submit_once(esme, message, cut, number, payload)
            if answer.status == SmppCommandStatus.ESME_ROK:
                return answer.message_id
            if answer.status in THROTTLED and attempt < self.config.throttle_retries:
                log.info("sms.smpp.throttled", part=number, attempt=attempt + 1)
                await asyncio.sleep(self.config.throttle_backoff_seconds * 2**attempt)
                continue
            raise SmsProviderError(
                f"SMSC refused part {number}/{total}: {answer.status.name}",
                permanent=answer.status not in TRANSIENT,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    async def _submit_once(
        self, esme: ESME, message: SmsMessage, cut: encoding.Split, number: int, payload: bytes
    ) -> _Answer:
        assert self._window is not None
        async with self._window:
            log_id = uuid.uuid4().hex
            answer: asyncio.Future[_Answer] = asyncio.get_running_loop().create_future()
            self._waiting[log_id] = answer
            self._part_of[log_id] = (message.idempotency_key, number)
            submit = SubmitSm(
                short_message=cut.parts[number - 1] or " ",
                source=PhoneNumber(self.config.sender, TON.ALPHANUMERIC, NPI.UNKNOWN),
                destination=PhoneNumber(message.recipient.lstrip("+"), TON.INTERNATIONAL, NPI.ISDN),
                esm_class=UDHI if len(cut.parts) > 1 else 0,
                registered_delivery=1,
                encoding="ucs2" if cut.encoding == "ucs2" else "gsm0338",
                log_id=log_id,
                extra_data=message.idempotency_key,
            )
            # Our bytes (with our header) go as they are; aiosmpplib does not cut them again.
            submit.set_encoded_message(payload)
            try:
                await esme.broker.enqueue(submit)
                return await asyncio.wait_for(answer, self.config.submit_timeout_seconds)
            except TimeoutError as error:
                raise SmsProviderError(
                    f"no submit_sm_resp within {self.config.submit_timeout_seconds:.0f} s"
                ) from error
            finally:
                self._waiting.pop(log_id, None)

    def _remember(self, key: str) -> dict[int, str]:
        accepted = self._accepted.setdefault(key, {})
        self._accepted.move_to_end(key)
        while len(self._accepted) > REMEMBERED_MESSAGES:
            self._accepted.popitem(last=False)
        return accepted

    def _answered(self, response: SubmitSmResp) -> None:
        status = response.command_status
        where = self._part_of.pop(response.log_id, None)
        if where is not None and status == SmppCommandStatus.ESME_ROK:
            key, number = where
            # Kept even when nobody waits any more: a retry then skips this part.
            self._accepted.setdefault(key, {})[number] = str(response.message_id)
        answer = self._waiting.get(response.log_id)
        if answer is not None and not answer.done():
            answer.set_result(_Answer(status=status, message_id=str(response.message_id)))

    async def _deliver(self, deliver: DeliverSm) -> None:
        if self.on_inbound is None:
            log.warning("sms.smpp.inbound_dropped", reason="no sink")
            return
        arrival = _arrival(deliver)
        try:
            await asyncio.get_running_loop().run_in_executor(None, self.on_inbound, arrival)
        except Exception as error:
            log.exception("sms.smpp.inbound_not_stored")
            # Not acknowledged: the session drops and the SMSC delivers it again.
            raise ConnectionError("inbound deliver_sm could not be stored") from error


def _arrival(deliver: DeliverSm) -> DeliveryReport | InboundSms:
    if deliver.is_receipt():
        receipt = deliver.parse_receipt()
        error = receipt.get("err")
        error_code = f"{error:03d}" if isinstance(error, int) else error
        return DeliveryReport(
            provider=SmppProvider.name,
            message_id=str(receipt.get("id", "")),
            status=str(receipt.get("stat", "")).upper(),
            error_code=None if error_code is None else str(error_code),
            raw={key: str(value) for key, value in receipt.items()},
        )
    return InboundSms(
        provider=SmppProvider.name,
        sender=_e164(deliver.source),
        recipient=deliver.destination.number,
        text=deliver.short_message or deliver.message_payload,
    )


def _e164(number: PhoneNumber) -> str:
    digits = number.number.lstrip("+")
    return f"+{digits}" if digits.isdigit() else number.number


class _Hook(AbstractHook):  # type: ignore[misc]
    def __init__(self, provider: SmppProvider) -> None:
        self.provider = provider

    async def sending(self, smpp_message: SmppMessage, pdu: bytes, client_id: str) -> None:
        return None

    async def received(self, smpp_message: SmppMessage | None, pdu: bytes, client_id: str) -> None:
        if isinstance(smpp_message, DeliverSm):
            await self.provider._deliver(smpp_message)
        elif isinstance(smpp_message, SubmitSmResp) and smpp_message.log_id:
            self.provider._answered(smpp_message)

    async def send_error(self, smpp_message: SmppMessage, error: Exception, client_id: str) -> None:
        log_id = cast(SubmitSm, smpp_message).log_id
        answer = self.provider._waiting.get(log_id)
        if answer is not None and not answer.done():
            answer.set_exception(SmsProviderError(f"submit_sm not sent: {error!r}"))


class _RateLimiter(SimpleRateLimiter):  # type: ignore[misc]
    def __init__(self, per_second: float) -> None:
        super().__init__(StructuredLogger("tulpar.smpp.rate", WARNING), send_rate=float(per_second))


def _finish_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what the session left on its stopped loop (the SMPP library's reader, sender
    and keeper tasks outlive an unbind that failed) and close the loop. Left pending, they
    are torn down whenever the garbage collector finds them, on a loop that cannot run their
    clean-up any more."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        # Bounded: a task that will not end must not hang the process's shutdown.
        loop.run_until_complete(asyncio.wait(pending, timeout=5))
    loop.close()
