"""A fake SMS centre for tests, on smpp34's asyncio server, listening on loopback in its own
thread. It accepts binds, answers submit_sm (with string message ids that an int would
mangle), can throttle (ESME_RTHROTTLED) or refuse, sends delivery receipts, pushes inbound
texts, and reassembles concatenated parts by their UDH sequence numbers — parts may arrive in
any order."""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import smpp34

from tulpar.integrations.sms import encoding


@dataclass(frozen=True)
class Submitted:
    message_id: str
    destination: str
    source: str
    esm_class: int
    data_coding: int
    short_message: bytes
    registered_delivery: int

    @property
    def concatenation(self) -> encoding.Concatenation | None:
        if not self.esm_class & 0x40:
            return None
        return encoding.parse_user_data(self.short_message)[0]

    @property
    def payload(self) -> bytes:
        if self.esm_class & 0x40:
            return encoding.parse_user_data(self.short_message)[1]
        return self.short_message

    @property
    def septets_or_units(self) -> int:
        """What the part costs on the air: GSM-7 septets or UCS-2 code units."""
        if self.data_coding == 0x08:
            return len(self.payload) // 2
        return len(self.payload)  # unpacked GSM-7: one octet per septet


def reassemble(parts: list[Submitted]) -> list[str]:
    """The texts the handsets show: single messages as they are, concatenated ones put
    together by reference number and sequence number, whatever order they came in."""
    texts: list[tuple[int, str]] = []
    groups: dict[tuple[str, int], dict[int, Submitted]] = {}
    first_seen: dict[tuple[str, int], int] = {}
    for index, part in enumerate(parts):
        concatenation = part.concatenation
        if concatenation is None:
            texts.append((index, encoding.decode(part.payload, part.data_coding)))
            continue
        key = (part.destination, concatenation.reference)
        groups.setdefault(key, {})[concatenation.sequence] = part
        first_seen.setdefault(key, index)
    for key, group in groups.items():
        total = next(iter(group.values())).concatenation.total  # type: ignore[union-attr]
        if sorted(group) != list(range(1, total + 1)):
            continue  # incomplete: the handset would still wait
        text = "".join(
            encoding.decode(group[number].payload, group[number].data_coding)
            for number in range(1, total + 1)
        )
        texts.append((first_seen[key], text))
    return [text for _, text in sorted(texts)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class FakeSmsc:
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    throttle_next: int = 0  # answer the next N submit_sm with ESME_RTHROTTLED
    refuse_with: int | None = None  # answer every submit_sm with this status
    receipts: bool = True
    receipt_status: str = "DELIVRD"
    receipt_error: str = "000"
    submitted: list[Submitted] = field(default_factory=list)
    throttled: int = 0
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _loop: asyncio.AbstractEventLoop | None = None
    _sessions: dict[str, smpp34.Esme] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _tasks: set[asyncio.Future[object]] = field(default_factory=set)

    def messages(self) -> list[str]:
        return reassemble(list(self.submitted))

    def wait_for(self, count: int, *, timeout: float = 10) -> list[Submitted]:
        """Block until ``count`` parts were accepted."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.submitted) >= count, timeout=timeout)
            return list(self.submitted)

    def send_inbound(self, sender: str, text: str, *, to: str = "7000") -> None:
        """A traveller's text pushed to the bound ESME as deliver_sm."""
        assert self._loop is not None
        cut = encoding.split(text)
        asyncio.run_coroutine_threadsafe(
            self._deliver(
                destination_addr=to,
                source_addr=sender.lstrip("+"),
                short_message=encoding.encode(text, cut.encoding),
                data_coding=encoding.DATA_CODING[cut.encoding],
                esm_class=0,
            ),
            self._loop,
        ).result(timeout=10)

    def send_receipt(self, message_id: str, status: str, error: str = "000") -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(
            self._deliver(
                destination_addr="Tulpar",
                source_addr="77000000000",
                short_message=_receipt(message_id, status, error),
                esm_class=0x04,
                data_coding=0,
            ),
            self._loop,
        ).result(timeout=10)

    async def _deliver(self, **pdu: object) -> None:
        for _ in range(200):
            if self._sessions:
                break
            await asyncio.sleep(0.02)
        session = next(iter(self._sessions.values()))
        await session.deliver_sm(**pdu)  # type: ignore[arg-type]

    async def _serve(self, started: threading.Event) -> None:
        server = smpp34.Server(self.host, self.port, system_id="FAKESMSC")
        await server.start()
        started.set()
        try:
            while True:
                event = await server.next()
                if isinstance(event, smpp34.Esme):
                    self._sessions[event.session_id] = event
                elif isinstance(event, smpp34.Unbound):
                    self._sessions.pop(event.session_id, None)
                elif isinstance(event, smpp34.SubmitSmEvent):
                    self._answer(event)
        finally:
            await server.stop()

    def _answer(self, event: smpp34.SubmitSmEvent) -> None:
        if self.throttle_next > 0:
            self.throttle_next -= 1
            self.throttled += 1
            event.reject(smpp34.ESME_RTHROTTLED)  # type: ignore[attr-defined]
            return
        if self.refuse_with is not None:
            event.reject(self.refuse_with)
            return
        message_id = f"00{next(self._ids):06x}"  # leading zeros: an id is a string
        event.accept(message_id)
        part = Submitted(
            message_id=message_id,
            destination=event.destination_addr,
            source=event.source_addr,
            esm_class=event.esm_class,
            data_coding=event.data_coding,
            short_message=bytes(event.short_message),
            registered_delivery=event.registered_delivery,
        )
        with self._changed:
            self.submitted.append(part)
            self._changed.notify_all()
        if self.receipts and part.registered_delivery & 0x01:
            session = self._sessions.get(event.session_id)
            if session is not None:
                self._tasks.add(
                    asyncio.ensure_future(
                        session.deliver_sm(
                            destination_addr=part.source,
                            source_addr=part.destination,
                            short_message=_receipt(
                                message_id, self.receipt_status, self.receipt_error
                            ),
                            esm_class=0x04,
                        )
                    )
                )

    @contextmanager
    def running(self) -> Iterator[FakeSmsc]:
        started = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop
        task: asyncio.Future[None] | None = None

        def run() -> None:
            nonlocal task
            asyncio.set_event_loop(loop)
            task = loop.create_task(self._serve(started))
            loop.run_forever()

        thread = threading.Thread(target=run, name="fake-smsc", daemon=True)
        thread.start()
        assert started.wait(timeout=10), "fake SMSC did not start"
        try:
            yield self
        finally:

            def stop() -> None:
                assert task is not None
                task.cancel()
                loop.call_later(0.2, loop.stop)

            loop.call_soon_threadsafe(stop)
            thread.join(timeout=5)


def _receipt(message_id: str, status: str, error: str) -> bytes:
    text = (
        f"id:{message_id} sub:001 dlvrd:{'001' if status == 'DELIVRD' else '000'}"
        f" submit date:2612011200 done date:2612011201 stat:{status} err:{error} text:"
    )
    return text.encode("ascii")
