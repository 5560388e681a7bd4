"""Reports a street office hands on: the redemptions as CSV (UTF-8 with a BOM, so Excel and
WPS read the Chinese right) or XLSX, streamed a chunk at a time so a month of a city's
redemptions never sits in memory. Every text cell is escaped against formulas
(``rules.cell``). The console's export and ``kiosk-hub report redemptions`` share this.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..service import Hub
from . import store
from .rules import CITY_TZ, cell
from .store import Redemption, RedemptionFilter
from .words import N_, say

EPOCH = dt.date(1970, 1, 1)
CITY_OFFSET_S = 8 * 3600
"""The city's clock is UTC+8 all year (``rules.CITY_TZ``)."""

HEADER = (
    N_("时间"),
    N_("志愿者编号"),
    N_("志愿者"),
    N_("物品"),
    N_("数量"),
    N_("单价"),
    N_("益币"),
    N_("自助机"),
    N_("货道"),
    N_("记录编号"),
)


def shown_time(at: int | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A moment on the city's clock, as the pages and reports write it."""
    return "" if at is None else dt.datetime.fromtimestamp(at, CITY_TZ).strftime(fmt)


class CityClock:
    """``YYYY-MM-DD HH:MM:SS`` on the city's clock, a million times over: each day's date is
    formatted once, the time of day by arithmetic (``datetime.strftime`` per row would be a
    third of an export's time)."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def __call__(self, at: int) -> str:
        day, second = divmod(at + CITY_OFFSET_S, 86400)
        date = self._days.get(day)
        if date is None:
            date = self._days[day] = (EPOCH + dt.timedelta(days=day)).isoformat()
        hour, rest = divmod(second, 3600)
        return f"{date} {hour:02d}:{rest // 60:02d}:{rest % 60:02d}"


def lines(rows: Iterator[Redemption], lang: str) -> Iterator[list[object]]:
    """The header, then one line a redemption; text a spreadsheet could run is escaped."""
    yield [say(h, lang) for h in HEADER]
    clock = CityClock()
    for at, vid, name, item, qty, price, amount, kiosk, kiosk_id, lane, event_id in rows:
        yield [
            clock(at),
            cell(vid),
            cell(name or ""),
            cell(item or ""),
            qty or 1,
            "" if price is None else price,
            -amount,
            cell(kiosk or kiosk_id or ""),
            "" if lane is None else lane,
            event_id or "",
        ]


def csv_stream(rows: Iterator[Redemption], lang: str, every: int = 2000) -> Iterator[bytes]:
    """The CSV in chunks of ``every`` rows, starting with the BOM."""
    return csv_chunks(lines(rows, lang), every)


def csv_chunks(table: Iterable[list[object]], every: int = 2000) -> Iterator[bytes]:
    """Spreadsheet rows as CSV (UTF-8 with a BOM) in chunks of ``every`` rows; the caller
    has escaped each text cell (``rules.cell``)."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    yield "\ufeff".encode()
    for n, line in enumerate(table, 1):
        out.writerow(line)
        if n % every == 0:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode()


def csv_export(
    hub: Hub, f: RedemptionFilter, scope_kiosks: dict[str, str] | None, lang: str
) -> Iterator[bytes]:
    """The redemption export as CSV bytes: on PostgreSQL the database writes the lines
    (``store.redemption_csv_copy``), elsewhere :func:`csv_stream` does; the same columns,
    escaping and order either way (the tests read both)."""
    if hub.engine.dialect.name != "postgresql":
        yield from csv_stream(store.redemption_rows(hub, f, scope_kiosks), lang)
        return
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([say(h, lang) for h in HEADER])
    yield ("\ufeff" + buf.getvalue()).encode()
    yield from store.redemption_csv_copy(hub, f, scope_kiosks)


def write_xlsx(rows: Iterator[Redemption], lang: str, path: Path) -> None:
    """The same rows as a workbook (openpyxl's write-only mode streams them to the file)."""
    write_sheet(lines(rows, lang), say("兑换记录", lang), path)


def write_sheet(table: Iterable[list[object]], title: str, path: Path) -> None:
    """Spreadsheet rows as a one-sheet workbook, written a row at a time."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    for line in table:
        sheet.append(line)
    book.save(path)


XLSX_MAGIC = b"PK\x03\x04"
"""An .xlsx file is a zip archive; a CSV never starts so."""


def as_csv(data: bytes) -> bytes:
    """An uploaded hours file as the CSV bytes the importer reads: a CSV as it is, the first
    sheet of an XLSX written out as UTF-8 CSV (one row a line, so the line numbers in the
    import's report are the sheet's row numbers). Raises ValueError for a broken workbook."""
    if not data.startswith(XLSX_MAGIC):
        return data
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ValueError(f"this is not a workbook Excel or WPS can open ({type(exc).__name__})") from exc
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(values_only=True):
        out.writerow(["" if v is None else _plain(v) for v in row])
    book.close()
    return buf.getvalue().encode()


def _plain(value: object) -> str:
    """A cell as the platform's CSV writes it: whole numbers without '.0', dates as ISO."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
