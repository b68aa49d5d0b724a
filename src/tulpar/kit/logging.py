"""Structured logs: one configuration for every entry point (web, worker, demo, commands).

structlog renders every line, ours and the standard library's (uvicorn, procrastinate,
SQLAlchemy): JSON in production, a readable console in the demo and in development
(``TULPAR_LOG_FORMAT`` overrides). Every line passes :func:`redact` first, so secrets, OTP
codes, tokens, passwords and full card numbers (ICCID, MSISDN, masked to their last four)
never reach a log, whoever wrote the line. The request id and anything else bound with
``structlog.contextvars`` is merged into each line."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from tulpar.config import Settings

MASK = "[redacted]"

# Keys whose values are secret whatever they look like.
_SECRET_KEYS = {
    "authorization",
    "code",
    "cookie",
    "otp",
    "otp_code",
    "password",
    "pin",
    "secret",
    "set-cookie",
    "signature",
    "token",
    "api_key",
    "key",
}
_SECRET_SUFFIXES = ("_secret", "_token", "_password", "_key", "_code_hash", "_signature")
# Keys whose values are card numbers: shown by their last four.
_CARD_KEYS = {"iccid", "msisdn", "card", "phone", "to", "from", "from_", "sender", "recipient"}
# Keys that end like a secret but are not one.
_PUBLIC_KEYS = {"idempotency_key", "plan_code", "status_code", "queueing_lock", "job_key"}

# In free text: bearer credentials, our API keys and traveller tokens, codes next to their name,
# and long digit runs (ICCIDs have 19-20 digits, phone numbers 10-15, card PANs 13-19).
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[^\s,;\"']+")
_TOKEN_LIKE = re.compile(r"\b(t[a-z]{1,3}_)[A-Za-z0-9_\-]{12,}")
_NAMED_CODE = re.compile(
    r"(?i)\b(code|otp|password|passwd|secret|token|pin)(\s*[:=]\s*|\s+)([\"']?)[^\s,;\"'&]+"
)
_DIGITS = re.compile(r"(?<![\d])(\+?)(\d[\d ]{8,}\d)(?![\d])")
# What each of those needs to match at all, in one pass: most values (event names, states,
# short ids) have none of it and are returned as they are, without the four passes.
_MAY_HOLD_A_SECRET = re.compile(
    r"(?i)bearer|basic|\bt[a-z]{1,3}_|code|otp|passw|secret|token|pin|\d[\d ]{8,}\d"
)


def mask_number(value: str) -> str:
    """A card or phone number by its last four: ``…0015``."""
    digits = re.sub(r"\D", "", value)
    if len(digits) < 8:
        return MASK if digits else value
    return f"…{digits[-4:]}"


def redact_text(text: str) -> str:
    if _MAY_HOLD_A_SECRET.search(text) is None:
        return text
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _TOKEN_LIKE.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _NAMED_CODE.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{MASK}", text)
    return _DIGITS.sub(_digit_run, text)


def _digit_run(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(2))
    if len(digits) < 10:  # amounts, ids, timestamps
        return match.group(0)
    return f"…{digits[-4:]}"


def _redact_value(key: str, value: Any) -> Any:
    lowered = key.lower()
    if lowered not in _PUBLIC_KEYS and (
        lowered in _SECRET_KEYS or lowered.endswith(_SECRET_SUFFIXES)
    ):
        return MASK if value not in (None, "") else value
    if lowered in _CARD_KEYS and isinstance(value, str | int):
        return mask_number(str(value))
    return _redact_any(value)


def _redact_any(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_any(v) for v in value)
    return value


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """structlog processor: mask secrets and card numbers in every key and in free text."""
    for key, value in list(event_dict.items()):
        if key in ("exc_info", "_record", "_from_structlog"):
            continue
        event_dict[key] = _redact_value(key, value) if key != "event" else _redact_any(value)
    return event_dict


def _redact_rendered(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    # Tracebacks are rendered into "exception" late; they may quote arguments.
    exception = event_dict.get("exception")
    if isinstance(exception, str):
        event_dict["exception"] = redact_text(exception)
    return event_dict


def log_format(settings: Settings) -> str:
    if settings.log_format in ("json", "console"):
        return settings.log_format
    return "json" if settings.environment == "production" else "console"


class _StderrHandler(logging.StreamHandler[Any]):
    """Writes to whatever ``sys.stderr`` is when a line is logged, not when the handler was
    made: a test runner or the embedded smoke run swaps standard error and closes the old one,
    and a handler holding it would print "I/O operation on closed file" at exit."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)

    def flush(self) -> None:
        self.stream = sys.stderr
        super().flush()


def configure_logging(settings: Settings, *, stream: Any = None) -> None:
    """Send every log line, ours and the libraries', through structlog's processors to
    ``stream`` (default: standard error as it is at each write). Safe to call again (the last
    call wins)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        redact,
    ]
    renderer: Any
    if log_format(settings) == "json":
        renderer = structlog.processors.JSONRenderer(default=str)
        final: list[Any] = [
            structlog.processors.format_exc_info,
            _redact_rendered,
            renderer,
        ]
    else:
        final = [structlog.dev.ConsoleRenderer(colors=False)]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler: logging.Handler = (
        logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    )
    handler.setFormatter(formatter)
    handler.set_name("tulpar")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "tulpar":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # Lines told at INFO that nobody reads, at a cost: alembic's dialect on every connection
    # (noise in every command's output); httpx's every request (ours say what each call to a
    # carrier, provider or partner came to); procrastinate's every job deferred (each is in
    # procrastinate_events, and the worker still tells when it starts and ends one). On the
    # renewal path the last two were about 4 % of a web process's CPU, formatted and
    # redacted. Their warnings, and everything under TULPAR_LOG_LEVEL=debug, still show.
    for chatty in ("alembic", "httpx", "procrastinate.jobs"):
        logging.getLogger(chatty).setLevel(
            logging.WARNING if root.level > logging.DEBUG else logging.NOTSET
        )
    # uvicorn's own handlers would print a second, unredacted copy: let its lines reach ours,
    # at our level (a uvicorn.Config made in this process, a simulator's, sets its own).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        library = logging.getLogger(name)
        if name == "uvicorn.access" and _access_log_turned_off(library):
            continue
        library.handlers.clear()
        library.propagate = True
        library.setLevel(logging.NOTSET)


def _access_log_turned_off(access: logging.Logger) -> bool:
    """uvicorn's ``--no-access-log`` (``access_log=False``) leaves its access logger with no
    handler and not propagating: a server run that way logs no line per request, and turning
    it back on would cost every request a line nobody asked for."""
    return not access.propagate and not access.handlers
