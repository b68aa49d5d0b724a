"""The log handler writes to standard error as it is when a line is logged: a runner that
swaps and closes the old stream (pytest, the embedded smoke run) must not make logging fail."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest
import structlog

from tulpar.config import Settings
from tulpar.kit.logging import configure_logging


@pytest.fixture
def restored_stderr() -> Iterator[None]:
    original = sys.stderr
    yield
    sys.stderr = original
    configure_logging(Settings(database_url=None))


def test_a_line_goes_to_the_stderr_of_the_moment_even_after_the_old_one_closed(
    restored_stderr: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = io.StringIO()
    sys.stderr = first
    configure_logging(Settings(environment="production", database_url=None))
    first.close()  # the stream the handler was made with is gone
    second = io.StringIO()
    sys.stderr = second
    errors: list[logging.LogRecord] = []
    monkeypatch.setattr(logging.Handler, "handleError", lambda self, record: errors.append(record))

    structlog.get_logger("tulpar.test").info("after.swap", n=1)

    assert errors == []
    assert "after.swap" in second.getvalue()
