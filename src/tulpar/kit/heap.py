"""A long-running process's heap, once it is ready to serve.

What a web or worker process builds while starting (modules, mappers, routes, compiled
templates) lives as long as the process. Left to the garbage collector, every full
collection walks it again, holding the GIL: 0.3–0.4 s per worker every few hundred renewals
in the renewal benchmark, with every job slot stopped. :func:`settle` moves it out of the
collector's sight (``gc.freeze``); what requests and jobs allocate afterwards is collected
as before. Only entry points that run until stopped call it; tests and commands do not."""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect start-up garbage, then exempt every surviving object from future collections."""
    gc.collect()
    gc.freeze()
