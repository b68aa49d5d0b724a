"""What fits on one USSD screen, and a renderer that spreads long content over pages.

A reply is at most 182 GSM-7 septets, or 80 UTF-16 code units once any character needs UCS-2
(Chinese, Cyrillic, Kazakh letters), counted with its ``CON ``/``END `` prefix. The encoding
rules are the SMS ones (:mod:`tulpar.notification.segments`): the network uses the same
alphabets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tulpar.notification.segments import count_segments

GSM7_LIMIT = 182
UCS2_LIMIT = 80
CONTINUE = "CON "
END = "END "
_ELLIPSIS = "..."


def size(reply: str) -> tuple[str, int, int]:
    """(encoding, units used, limit) of a whole reply, prefix included."""
    counted = count_segments(reply)
    limit = GSM7_LIMIT if counted.encoding == "gsm7" else UCS2_LIMIT
    return counted.encoding, counted.units, limit


def fits(reply: str) -> bool:
    _, units, limit = size(reply)
    return units <= limit


@dataclass(frozen=True, slots=True)
class Line:
    """An option as shown: ``1 Renew``."""

    key: str
    label: str

    def __str__(self) -> str:
        return f"{self.key} {self.label}"


def clip(prefix: str, text: str, suffix: str = "") -> str:
    """``text`` shortened (ending in ``...``) until ``prefix + text + suffix`` fits: a last
    resort, so a screen never breaks the protocol even if a name or translation is too long."""
    if fits(prefix + text + suffix):
        return text
    cut = len(text)
    while cut > 0 and not fits(prefix + text[:cut] + _ELLIPSIS + suffix):
        cut -= 1
    return text[:cut] + _ELLIPSIS


def paginate(
    body: Sequence[str],
    *,
    options: Sequence[Line],
    more: Line,
    back: Line | None,
    back_on_first: bool,
    heading: str | None = None,
    pinned: Sequence[Line] = (),
) -> list[str]:
    """Lay ``body`` out over as few ``CON`` pages as fit. Every page but the last ends with
    ``more``; the last with ``options``; pages after the first with ``back``. Then, where they
    still fit without moving a line of ``body``: ``pinned`` on the pages before the last, and
    on the first page ``heading`` and (with ``back_on_first``) ``back``. Returns the pages'
    texts, without the prefix."""
    pages: list[list[str]] = []
    remaining = list(body)
    while True:
        back_lines = [str(back)] if back is not None and pages else []
        last = [*remaining, *map(str, options), *back_lines]
        if fits(CONTINUE + "\n".join(last)) or not remaining:
            pages.append(last)
            break
        footer = [str(more), *back_lines]
        taken: list[str] = []
        while remaining and fits(CONTINUE + "\n".join([*taken, remaining[0], *footer])):
            taken.append(remaining.pop(0))
        if not taken:  # one line longer than a page: shortened rather than never shown
            taken.append(clip(CONTINUE, remaining.pop(0), "\n" + "\n".join(footer)))
        pages.append([*taken, *footer])
    for page in pages[:-1]:
        _insert_if_fits(page, len(page) - 1, [str(line) for line in pinned])
    if back is not None and back_on_first:
        _insert_if_fits(pages[0], len(pages[0]), [str(back)])
    if heading is not None:
        _insert_if_fits(pages[0], 0, [heading])
    return [clip(CONTINUE, "\n".join(page)) for page in pages]


def _insert_if_fits(page: list[str], at: int, lines: list[str]) -> None:
    candidate = page[:at] + lines + page[at:]
    if lines and fits(CONTINUE + "\n".join(candidate)):
        page[:] = candidate
