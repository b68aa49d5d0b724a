"""One rule for showing quantities: 1 GB = 1024 MB = 1024² KB (how carriers sell data)."""

from __future__ import annotations

MB = 1024 * 1024
GB = 1024 * MB


def format_data(data_bytes: int) -> str:
    if data_bytes >= GB:
        return f"{data_bytes / GB:.2f}".rstrip("0").rstrip(".") + " GB"
    return f"{data_bytes / MB:.1f}".rstrip("0").rstrip(".") + " MB"


def format_minutes(voice_seconds: int) -> str:
    return f"{voice_seconds // 60} min"
