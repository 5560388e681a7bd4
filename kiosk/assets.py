"""The files the kiosk's screens load from ``assets/``, and what a font file covers (no Qt).

The touch screens draw every sentence in a subset of Noto Sans CJK SC shipped in
``assets/fonts`` (no system font is needed). :func:`font_problem` reads a font file's
character map (the OpenType ``cmap`` table, formats 4 and 12) to tell whether it is there,
is a font, and has a glyph for every character of the kiosk's sentences, without
starting Qt: ``kiosk doctor`` runs it on a kiosk before its screen is up.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets"
FONTS = ASSETS / "fonts"
FONT_FILES = ("NotoSansSC-Kiosk-Regular.otf", "NotoSansSC-Kiosk-Bold.otf")
FAMILY = "Noto Sans CJK SC"
SFNT = (b"OTTO", b"\x00\x01\x00\x00", b"true")
"""How an OpenType (CFF or TrueType outlines) or TrueType file begins."""


class FontError(ValueError):
    """Not a font file this module can read."""


def _tables(data: bytes) -> dict[bytes, bytes]:
    if data[:4] not in SFNT:
        raise FontError("not an OpenType or TrueType font")
    (count,) = struct.unpack_from(">H", data, 4)
    tables = {}
    for i in range(count):
        tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        tables[tag] = data[offset : offset + length]
    return tables


def _ranges(subtable: bytes) -> Iterable[tuple[int, int]]:
    """The (first, last) code points a ``cmap`` subtable of format 4 or 12 maps."""
    (form,) = struct.unpack_from(">H", subtable)
    if form == 12:
        (groups,) = struct.unpack_from(">I", subtable, 12)
        for g in range(groups):
            first, last, _ = struct.unpack_from(">III", subtable, 16 + 12 * g)
            yield first, last
    elif form == 4:
        (segments2,) = struct.unpack_from(">H", subtable, 6)
        ends = struct.unpack_from(f">{segments2 // 2}H", subtable, 14)
        starts = struct.unpack_from(f">{segments2 // 2}H", subtable, 16 + segments2)
        yield from ((first, last) for first, last in zip(starts, ends, strict=True) if first != 0xFFFF)


def code_points(path: Path) -> list[tuple[int, int]]:
    """The ranges of characters the font at ``path`` has glyphs for (its Unicode ``cmap``)."""
    try:
        cmap = _tables(path.read_bytes())[b"cmap"]
        (count,) = struct.unpack_from(">H", cmap, 2)
        found: list[tuple[int, int]] = []
        for i in range(count):
            platform, encoding, offset = struct.unpack_from(">HHI", cmap, 4 + 8 * i)
            if (platform, encoding) in ((3, 10), (0, 4), (3, 1), (0, 3)):
                found += _ranges(cmap[offset:])
    except (KeyError, struct.error) as exc:
        raise FontError(f"no readable character map ({exc})") from exc
    return found


def missing(path: Path, text: str) -> str:
    """The characters of ``text`` (other than ASCII and white space) the font lacks."""
    ranges = code_points(path)
    wanted = sorted({c for c in text if ord(c) > 0x7F and not c.isspace()})
    return "".join(c for c in wanted if not any(a <= ord(c) <= b for a, b in ranges))
