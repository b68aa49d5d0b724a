"""The web processes of ``tulpar serve`` settle their heap once the app is built: what start-up
made is out of the collector's sight, what comes later is collected as before. In a child
process: freezing the test process's own heap would outlive the test."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import gc
from tulpar.cli.serve import served_app
assert gc.get_freeze_count() == 0
app = served_app()
frozen = gc.get_freeze_count()
later = [object() for _ in range(10)], {"made": "after start-up"}
assert frozen > 10_000, frozen
assert gc.is_tracked(later) and gc.get_freeze_count() == frozen
assert any(o is later for o in gc.get_objects())
print("ok", frozen)
"""


def test_served_app_freezes_what_start_up_made_and_nothing_after() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok ")
