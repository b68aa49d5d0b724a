"""An answer that takes no less than a set time, whatever the work behind it took.

For answers whose time must not tell a secret: asking for a verification code does the same
work whether or not the card exists (:mod:`tulpar.otp.service`), but "the same work" on a real
machine still differs by a fraction of a millisecond — one row hydrated, one index entry
written — and with enough samples a fraction is measurable. Holding every answer to a floor
well above the work's own time takes the work out of what the caller can see.

Used as a route dependency (``dependencies=[...]``), so it is entered before the request's
session and left after the session has committed: the floor covers the commit too."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from fastapi import Depends


def answer_no_sooner_than(seconds: Callable[[], float]) -> Any:
    """A dependency holding the answer until ``seconds()`` after the request reached the
    route (refusals too: a 429 or a 422 must not be faster for one kind of card). Returns
    ``Depends(...)``, for a route's ``dependencies``."""

    async def hold() -> AsyncIterator[None]:
        started = anyio.current_time()
        try:
            yield
        finally:
            remaining = started + seconds() - anyio.current_time()
            if remaining > 0:
                await anyio.sleep(remaining)

    return Depends(hold, scope="function")
