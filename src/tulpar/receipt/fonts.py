"""The receipt PDF's font: built for each document from two fonts under the SIL Open Font
License that the project installs from its own dependencies — Noto Sans (Latin, Cyrillic with
the Kazakh letters ә ғ қ ң ө ұ ү һ і) and Noto Sans CJK (Chinese) — holding just the
characters the receipt needs, so the PDF embeds it and reads the same on any device.

Noto Sans CJK has cubic (CFF) outlines, which reportlab cannot embed; the glyphs taken from it
are converted to TrueType quadratic curves (within 1/1000 em) as they are copied."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from typing import Any

import cvttf_NotoSansCJK_Regular  # type: ignore[import-untyped]
import fontpkg_noto_sans  # type: ignore[import-untyped]
from fontTools.fontBuilder import FontBuilder  # type: ignore[import-untyped]
from fontTools.pens.cu2quPen import Cu2QuPen  # type: ignore[import-untyped]
from fontTools.pens.recordingPen import DecomposingRecordingPen  # type: ignore[import-untyped]
from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont as EmbeddedFont  # type: ignore[import-untyped]

FAMILY = "TulparReceipt"
UNITS_PER_EM = 1000  # both sources
MAX_CURVE_ERROR = 1.0  # font units
# Always in the font, so documents in one language mostly share one font.
BASE_CHARACTERS = frozenset(
    [chr(code) for code in range(0x20, 0x7F)]
    + [chr(code) for code in range(0x410, 0x450)]
    + list("ЁёӘәҒғҚқҢңӨөҰұҮүҺһІі·×≈–—«»№…€")
)
_build_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class _Source:
    font: TTFont
    cmap: dict[int, str]
    glyphs: Any
    cubic: bool


@lru_cache(maxsize=1)
def _sources() -> tuple[_Source, _Source]:
    """Latin/Cyrillic first, Chinese second (loaded once per process, outlines on demand)."""
    latin = TTFont(str(fontpkg_noto_sans.ROOT / "files" / "NotoSans[wdth,wght].ttf"), lazy=True)
    chinese = TTFont(cvttf_NotoSansCJK_Regular.get_TTF_path(), lazy=True)
    return (
        _Source(latin, latin.getBestCmap(), latin.getGlyphSet(), cubic=False),
        _Source(chinese, chinese.getBestCmap(), chinese.getGlyphSet(), cubic=True),
    )


def _source_of(character: str) -> _Source | None:
    for source in _sources():
        if ord(character) in source.cmap:
            return source
    return None


def missing_characters(text: str) -> set[str]:
    """The characters of ``text`` neither font has (they would print as empty boxes)."""
    return {ch for ch in set(text) if not ch.isspace() and _source_of(ch) is None}


def _copy(source: _Source, name: str) -> tuple[Any, int]:
    recorded = DecomposingRecordingPen(source.glyphs)
    source.glyphs[name].draw(recorded)
    pen = TTGlyphPen(None)
    recorded.replay(Cu2QuPen(pen, MAX_CURVE_ERROR, reverse_direction=True) if source.cubic else pen)
    advance = int(source.font["hmtx"][name][0])
    return pen.glyph(), advance


def _build(characters: frozenset[str], name: str) -> bytes:
    latin, _ = _sources()
    order = [".notdef"]
    notdef, notdef_advance = _copy(latin, ".notdef")
    glyphs, advances, cmap = {".notdef": notdef}, {".notdef": notdef_advance}, {}
    for character in sorted(characters):
        source = _source_of(character)
        if source is None:
            continue
        glyph = f"u{ord(character):04X}"
        glyphs[glyph], advances[glyph] = _copy(source, source.cmap[ord(character)])
        order.append(glyph)
        cmap[ord(character)] = glyph
    builder = FontBuilder(UNITS_PER_EM, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap(cmap)
    builder.setupGlyf(glyphs)
    table = builder.font["glyf"]
    builder.setupHorizontalMetrics(
        {glyph: (advances[glyph], getattr(table[glyph], "xMin", 0)) for glyph in order}
    )
    # Noto Sans's vertical metrics; the CJK glyphs (880 / -120) fit inside them.
    builder.setupHorizontalHeader(ascent=1069, descent=-293)
    # Its own name inside too: reportlab shares one face between fonts of one internal name.
    builder.setupNameTable({"familyName": name, "styleName": "Regular", "psName": name})
    builder.setupOS2(
        sTypoAscender=1069, sTypoDescender=-293, usWinAscent=1069, usWinDescent=293, fsType=0
    )
    builder.setupPost()
    out = BytesIO()
    builder.save(out)
    return out.getvalue()


def font_for(text: str) -> str:
    """The name of a registered reportlab font that has every character of ``text`` both
    fonts know (see :func:`missing_characters`)."""
    characters = frozenset(ch for ch in text if not ch.isspace() or ch == " ") | BASE_CHARACTERS
    return _registered(characters)


@lru_cache(maxsize=64)
def _registered(characters: frozenset[str]) -> str:
    digest = hashlib.sha256("".join(sorted(characters)).encode()).hexdigest()[:12]
    name = f"{FAMILY}-{digest}"
    with _build_lock:
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(EmbeddedFont(name, BytesIO(_build(characters, name))))
    return name
