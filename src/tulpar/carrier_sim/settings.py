"""How a simulator run behaves."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outage:
    """A window, in seconds after the simulator started, during which it answers 503."""

    start_seconds: float
    end_seconds: float

    @classmethod
    def parse(cls, text: str) -> Outage:
        """``"10-40"``: from 10 s to 40 s after start."""
        start, separator, end = text.partition("-")
        try:
            outage = cls(float(start), float(end))
        except ValueError:
            raise ValueError(f"an outage is START-END in seconds, not {text!r}") from None
        if not separator or outage.end_seconds <= outage.start_seconds or outage.start_seconds < 0:
            raise ValueError(f"an outage is START-END in seconds with START < END, not {text!r}")
        return outage

    def covers(self, elapsed_seconds: float) -> bool:
        return self.start_seconds <= elapsed_seconds < self.end_seconds


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    latency_ms: float = 0.0
    failure_rate: float = 0.0  # share of first-time requests answered "rejected" (temporary)
    permanent_error_iccids: frozenset[str] = frozenset()
    outages: tuple[Outage, ...] = ()
    # Asynchronous completion: answer "pending", then POST a signed callback after the delay.
    callback_url: str | None = None
    callback_secret: str | None = None
    completion_delay_ms: float = 0.0
    callback_attempts: int = 5
    # Usage records for cards with an applied bundle, POSTed every interval.
    usage_url: str | None = None
    usage_key: str | None = None
    usage_interval_seconds: float = 30.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError("failure_rate is between 0 and 1")
        if self.latency_ms < 0 or self.completion_delay_ms < 0:
            raise ValueError("latencies are not negative")
        if self.callback_url and not self.callback_secret:
            raise ValueError("asynchronous callbacks need a callback secret")
        if self.usage_url and not self.usage_key:
            raise ValueError("usage records need a usage key")

    @property
    def is_asynchronous(self) -> bool:
        return self.callback_url is not None
