"""Printable cards: a sheet of signed codes as PNG or PDF.

For volunteers without a smartphone the hub prints cards: an A4 sheet of 2 × 4 cards at
300 dpi, each with the QR code (drawn with ``qrcode``), the holder's name and number,
and a line saying what it is and how to use it. A technician's card carries a ``tech``
code, which kiosks accept for 12 hours: its line says 技术员 / Technician and until when
it works (the hub's local time). Chinese names render with the kiosk's shipped font, each
line made smaller if it would not fit its card.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

FONT = Path(__file__).resolve().parents[1] / "assets" / "fonts" / "NotoSansSC-Kiosk-Regular.otf"
DPI = 300
A4 = (2480, 3508)  # 210 × 297 mm at 300 dpi
COLUMNS, ROWS = 2, 4
MARGIN = 120


VOLUNTEER_CAPTION = "时间银行志愿者卡 · 在兑换机扫码使用"
SUFFIXES = (".pdf", ".png")


@dataclass(frozen=True)
class Card:
    holder_id: str
    """The volunteer's number (a technician's on a technician's card)."""
    name: str
    code: str
    caption: str = VOLUNTEER_CAPTION


def technician_caption(expires_at: int) -> str:
    """A technician's card's line: what it is, and until when kiosks accept it (local time)."""
    until = dt.datetime.fromtimestamp(expires_at).astimezone()
    return f"技术员 / Technician · 有效至 {until:%Y-%m-%d %H:%M} · 扫码后输入 PIN"


def check_out(path: Path) -> None:
    """ValueError unless ``path`` is a sheet :func:`write` can make (before any card is signed)."""
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError("cards are written as .png or .pdf")


def _qr(text: str, size: int) -> Image.Image:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    n = len(matrix)
    module = max(1, size // n)
    image = Image.new("1", (n * module, n * module), 1)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle([x * module, y * module, (x + 1) * module - 1, (y + 1) * module - 1], fill=0)
    return image


def _fitted(draw: ImageDraw.ImageDraw, text: str, size: int, width: int) -> ImageFont.FreeTypeFont:
    """The shipped font at ``size``, or smaller until ``text`` fits ``width`` pixels."""
    font = ImageFont.truetype(str(FONT), size)
    while size > 16 and draw.textlength(text, font=font) > width:
        size -= 4
        font = ImageFont.truetype(str(FONT), size)
    return font


def sheets(cards: Sequence[Card]) -> list[Image.Image]:
    """One A4 page for every eight cards."""
    cell_w = (A4[0] - 2 * MARGIN) // COLUMNS
    cell_h = (A4[1] - 2 * MARGIN) // ROWS
    pages = []
    for start in range(0, len(cards), COLUMNS * ROWS):
        page = Image.new("RGB", A4, "white")
        draw = ImageDraw.Draw(page)
        for i, card in enumerate(cards[start : start + COLUMNS * ROWS]):
            x = MARGIN + (i % COLUMNS) * cell_w
            y = MARGIN + (i // COLUMNS) * cell_h
            draw.rounded_rectangle(
                [x + 20, y + 20, x + cell_w - 20, y + cell_h - 20], 40, outline="#999999", width=4
            )
            qr = _qr(card.code, cell_h - 260)
            page.paste(qr, (x + (cell_w - qr.width) // 2, y + 50))
            room = cell_w - 100
            title = f"{card.name}  {card.holder_id}"
            draw.text(
                (x + cell_w // 2, y + cell_h - 190),
                title,
                font=_fitted(draw, title, 64, room),
                fill="black",
                anchor="mm",
            )
            draw.text(
                (x + cell_w // 2, y + cell_h - 100),
                card.caption,
                font=_fitted(draw, card.caption, 40, room),
                fill="#555555",
                anchor="mm",
            )
        pages.append(page)
    return pages


def write(cards: Sequence[Card], path: Path) -> int:
    """Write the sheets to ``path`` (.png: one file per page, numbered after the first; .pdf)."""
    check_out(path)
    pages = sheets(cards)
    if not pages:
        raise ValueError("no cards to print")
    if path.suffix.lower() == ".pdf":
        pages[0].save(path, "PDF", resolution=DPI, save_all=True, append_images=pages[1:])
    else:
        for n, page in enumerate(pages):
            target = path if n == 0 else path.with_name(f"{path.stem}-{n + 1}{path.suffix}")
            page.save(target, "PNG", dpi=(DPI, DPI))
    return len(pages)
