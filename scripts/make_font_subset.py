"""Build the CJK font subset shipped in ``assets/fonts``.

The kiosk must render Chinese on a bare machine with no system fonts, so it ships
Noto Sans CJK SC (SIL Open Font License 1.1) cut down to what a kiosk shows: ASCII,
Latin-1, general and CJK punctuation, full-width forms and every hanzi of GB 2312
(6,763 characters, which covers the names on a Chinese volunteer register).

Usage (the source is Debian's ``fonts-noto-cjk`` package or the upstream OTF)::

    python scripts/make_font_subset.py NotoSansCJK-Regular.ttc assets/fonts/NotoSansSC-Kiosk-Regular.otf
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont


def gb2312_hanzi() -> set[int]:
    chars: set[int] = set()
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(ord(bytes([hi, lo]).decode("gb2312")))
    return chars


def wanted_codepoints() -> set[int]:
    cps = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    cps |= set(range(0x2000, 0x2070))  # general punctuation
    cps |= set(range(0x2190, 0x2200))  # arrows
    cps |= set(range(0x2460, 0x2500))  # enclosed numbers
    cps |= set(range(0x25A0, 0x2600))  # geometric shapes
    cps |= set(range(0x3000, 0x3040))  # CJK punctuation
    cps |= set(range(0xFF00, 0xFFF0))  # full-width forms
    return cps | gb2312_hanzi()


def load_sc(path: Path) -> TTFont:
    if path.suffix.lower() == ".ttc":
        for font in TTCollection(str(path)).fonts:
            if font["name"].getDebugName(1).startswith("Noto Sans CJK SC"):
                return font
        raise SystemExit(f"{path}: no Simplified Chinese face in this collection")
    return TTFont(str(path))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", type=Path)
    ap.add_argument("output", type=Path)
    args = ap.parse_args()
    font = load_sc(args.source)
    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    sub = subset.Subsetter(options)
    sub.populate(unicodes=wanted_codepoints())
    sub.subset(font)
    font.save(str(args.output))
    print(f"{args.output}: {args.output.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
