"""Reading the volunteer platform's CSV export of certified hours (no database here).

Columns ``record_id,volunteer_id,name,hours,activity,certified_on`` or the Chinese
``记录编号,志愿者编号,姓名,服务时长,活动名称,认定日期``; UTF-8 with or without a BOM, or
GB18030 (GBK, which Excel writes on a Chinese Windows PC), with LF or CRLF line ends
(:func:`decode`).

Every cell is NFKC-normalised and trimmed first (full-width ``２．５`` is 2.5, ``Ｖ００１`` is
V001; ``protocol.ids``, which reads every id ``kiosk-hub`` is given the same way), then
checked against the column it goes into, so that a row the database would refuse is
refused here, with its line, and never reaches the database: ids are printable, without
spaces or control characters, and fit their columns; a name and an activity have no
control characters and fit theirs. Hours are written plainly (2, 2.5, 02.5; 2.50 is 2.5:
trailing zeros are no extra decimal), more than 0, at most 24, with at most one decimal
(not 2.55, 1e1, +2, 2., .5, NaN); each good row becomes ``hours × rate`` 益币 as an
integer. A date is YYYY-MM-DD (or with / or .), at most a day after today.

A bad row is a :class:`RowError` (``line N: field: reason``) and does not stop the good
ones. A problem with the whole file (neither UTF-8 nor GB18030, no header, missing columns, a quote
never closed) raises :class:`HoursFileError`: nothing of such a file is imported.

A record id seen before, earlier in the file or in the ledger, is a duplicate when its
content (volunteer, hours, date) is the same, and a conflict otherwise. The ledger keeps
that content in the credit's volunteer id and note (:func:`note`, :func:`stored_content`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import String, Table

from protocol.ids import id_problem, normalise

from .models import LedgerEntry, Volunteer

HEADERS = {
    "record_id": ("record_id", "记录编号"),
    "volunteer_id": ("volunteer_id", "志愿者编号"),
    "name": ("name", "姓名"),
    "hours": ("hours", "服务时长"),
    "activity": ("activity", "活动名称"),
    "certified_on": ("certified_on", "认定日期"),
}
MAX_HOURS = Decimal(24)
FUTURE_SLACK = dt.timedelta(days=1)  # the platform's today may be ahead of the hub's UTC date
PLAIN_HOURS = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
DATE = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})")
STORED_NOTE = re.compile(r"(\S+) h · (.*?)(?: · ([0-9]{4}-[0-9]{2}-[0-9]{2}))?", re.DOTALL)


def column_length(table: Table, column: str) -> int:
    """The most characters ``table.column`` holds."""
    kind = table.c[column].type
    assert isinstance(kind, String) and kind.length is not None
    return kind.length


def note(hours: Decimal, activity: str, certified_on: dt.date) -> str:
    """What a credit's ledger entry keeps of its row besides the volunteer and the amount."""
    return f"{hours} h · {activity} · {certified_on.isoformat()}"


_LEDGER = LedgerEntry.__table__
_VOLUNTEERS = Volunteer.__table__
assert isinstance(_LEDGER, Table) and isinstance(_VOLUNTEERS, Table)
LIMITS = {
    "record_id": column_length(_LEDGER, "record_id"),
    "volunteer_id": min(column_length(_LEDGER, "volunteer_id"), column_length(_VOLUNTEERS, "id")),
    "name": column_length(_VOLUNTEERS, "name"),
    # the longest hours are "23.5": every valid activity fits the note whole
    "activity": column_length(_LEDGER, "note") - len(note(Decimal("23.5"), "", dt.date(2000, 1, 1))),
}
"""The most characters each text field may have: the columns it goes into."""


class HoursFileError(ValueError):
    """The file as a whole cannot be imported; nothing of it is."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Content:
    """What makes two rows with one record id the same record (name and activity do not)."""

    volunteer_id: str
    hours: Decimal | None  # None: not known (a stored note this code cannot read)
    certified_on: dt.date | None

    def differs_from(self, other: Content) -> bool:
        def known_and_unequal(a: object, b: object) -> bool:
            return a is not None and b is not None and a != b

        return (
            self.volunteer_id != other.volunteer_id
            or known_and_unequal(self.hours, other.hours)
            or known_and_unequal(self.certified_on, other.certified_on)
        )

    def __str__(self) -> str:
        hours = "?" if self.hours is None else self.hours
        return f"volunteer {self.volunteer_id}, {hours} h, {self.certified_on or '?'}"


@dataclass(frozen=True, slots=True)
class HoursRow:
    line: int
    record_id: str
    volunteer_id: str
    name: str
    hours: Decimal
    activity: str
    certified_on: dt.date
    raw_record_id: str  # as the file wrote it, before NFKC (an older import kept it so)

    def coins(self, rate: int) -> int:
        return int(self.hours * rate)

    @property
    def content(self) -> Content:
        return Content(self.volunteer_id, self.hours, self.certified_on)

    @property
    def note(self) -> str:
        return note(self.hours, self.activity, self.certified_on)


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str  # "field: why", or why the row as a whole does not fit

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def stored_content(volunteer_id: str, stored_note: str | None) -> Content:
    """The content of a credit the ledger holds (its note may have been cut at 200 characters)."""
    found = STORED_NOTE.fullmatch(stored_note or "")
    hours = date = None
    if found:
        text = unicodedata.normalize("NFKC", found[1])
        hours = Decimal(text) if PLAIN_HOURS.fullmatch(text) else None
        date = dt.date.fromisoformat(found[3]) if found[3] else None
    return Content(unicodedata.normalize("NFKC", volunteer_id), hours, date)


def _text_problem(text: str, field: str) -> str | None:
    if len(text) > LIMITS[field]:
        return f"{field}: {len(text)} characters, at most {LIMITS[field]}"
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cs"):
            return f"{field}: contains the control character U+{ord(ch):04X}"
    return None


def _hours(text: str) -> Decimal | str:
    """The hours, or why not."""
    if not PLAIN_HOURS.fullmatch(text):
        return f"hours: {text!r} is not a number of hours (write 2 or 2.5)"
    hours = Decimal(text.rstrip("0").rstrip(".") if "." in text else text)
    if hours <= 0 or hours > MAX_HOURS:
        return f"hours: {text!r} must be more than 0 and at most 24"
    if (hours * 10) % 1 != 0:
        return f"hours: {text!r} has more than one decimal"
    return hours


def _date(text: str, today: dt.date) -> dt.date | str:
    """The date, or why not."""
    found = DATE.fullmatch(text)
    try:
        if not found:
            raise ValueError
        date = dt.date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return f"certified_on: {text!r} is not a date (write 2026-11-01)"
    if date > today + FUTURE_SLACK:
        return f"certified_on: {text!r} is in the future"
    return date


def _row(line: int, cells: list[str], width: int, columns: dict[str, int], today: dt.date) -> HoursRow | str:
    """One row, or why it does not fit."""
    if len(cells) < width or any(c.strip() for c in cells[width:]):
        return f"expected {width} columns, found {len(cells)}"
    get = {f: normalise(cells[i]) for f, i in columns.items()}
    for field in ("record_id", "volunteer_id"):
        if problem := id_problem(get[field], field, LIMITS[field]):
            return problem
    for field in ("name", "activity"):
        if problem := _text_problem(get[field], field):
            return problem
    hours = _hours(get["hours"])
    if isinstance(hours, str):
        return hours
    date = _date(get["certified_on"], today)
    if isinstance(date, str):
        return date
    raw_id = cells[columns["record_id"]].strip()
    return HoursRow(
        line, get["record_id"], get["volunteer_id"], get["name"], hours, get["activity"], date, raw_id
    )


ENCODINGS = ("utf-8-sig", "gb18030")
"""What an hours file may be written in, tried in this order: UTF-8 (a BOM or not), then
GB18030, a superset of GBK (code page 936), the "ANSI" Excel saves a CSV in on a Chinese
Windows PC. A file of Chinese text in GB18030 is almost never valid UTF-8, so the order
decides nothing a person would notice."""


def decode(data: bytes) -> str:
    """The file's text in the first of :data:`ENCODINGS` that reads every byte (strictly).

    A file neither reads is refused at the line where the one that read further stopped:
    a UTF-8 file with one stray byte is told where that byte is, and so is a GBK one.
    """
    failures: list[UnicodeDecodeError] = []
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            failures.append(exc)
    furthest = max(failures, key=lambda exc: exc.start)
    line = data.count(b"\n", 0, furthest.start) + 1
    byte = data[furthest.start : furthest.start + 1].hex()
    raise HoursFileError(line, f"the file is neither UTF-8 nor GB18030 (GBK) text (byte 0x{byte})")


def parse(data: bytes, today: dt.date) -> tuple[list[HoursRow], list[RowError]]:
    """The file's good rows and its refused ones; raises :class:`HoursFileError`."""
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[HoursRow] = []
    errors: list[RowError] = []
    line = 1
    try:
        header = [normalise(h) for h in next(reader, [])]
        if not any(header):
            raise HoursFileError(1, "the file is empty")
        columns = {f: i for f, names in HEADERS.items() for i, h in enumerate(header) if h in names}
        missing = [HEADERS[f][0] for f in HEADERS if f not in columns]
        if missing:
            raise HoursFileError(1, f"missing columns: {', '.join(missing)}")
        while True:
            line = reader.line_num + 1  # where the row starts (a quoted cell may span lines)
            cells = next(reader, None)
            if cells is None:
                break
            if not any(c.strip() for c in cells):
                continue
            row = _row(line, cells, len(header), columns, today)
            if isinstance(row, str):
                errors.append(RowError(line, row))
            else:
                rows.append(row)
    except csv.Error as exc:  # a quote never closed, a cell over the size limit
        raise HoursFileError(line, f"the file is not readable CSV from here: {exc}") from exc
    return rows, errors


def first_of_each(rows: Iterable[HoursRow]) -> tuple[list[HoursRow], int, list[RowError]]:
    """Each record id's first row; later rows with its id are duplicates, or conflicts."""
    first: dict[str, HoursRow] = {}
    duplicates = 0
    conflicts: list[RowError] = []
    for row in rows:
        seen = first.setdefault(row.record_id, row)
        if seen is row:
            continue
        if seen.content.differs_from(row.content):
            conflicts.append(conflict(row, f"line {seen.line} has it with", seen.content))
        else:
            duplicates += 1
    return list(first.values()), duplicates, conflicts


def conflict(row: HoursRow, where: str, other: Content) -> RowError:
    return RowError(
        row.line, f"record_id: {row.record_id!r} conflicts: {where} {other}, this line {row.content}"
    )
