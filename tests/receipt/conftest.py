from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tulpar.config import get_settings
from tulpar.receipt import signing


@pytest.fixture(autouse=True)
def signing_key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test signs with a fresh key generated in its own temporary data directory."""
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    monkeypatch.setattr(get_settings(), "receipt_signing_key", None)
    signing.signing_key.cache_clear()
    yield tmp_path
    signing.signing_key.cache_clear()
