"""Reading the volunteer platform's CSV export of certified hours (no database here).

Columns ``record_id,volunteer_id,name,hours,activity,certified_on`` or the Chinese
``记录编号,志愿者编号,姓名,服务时长,活动名称,认定日期``; UTF-8 with or without a BOM.
Hours are positive with at most one decimal (2.5, not 2.55); each good row becomes
``hours × rate`` 益币, exactly, as an integer. A bad row is reported with its line
number and reason and does not stop the good ones.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

HEADERS = {
    "record_id": ("record_id", "记录编号"),
    "volunteer_id": ("volunteer_id", "志愿者编号"),
    "name": ("name", "姓名"),
    "hours": ("hours", "服务时长"),
    "activity": ("activity", "活动名称"),
    "certified_on": ("certified_on", "认定日期"),
}
MAX_HOURS = Decimal(24)


@dataclass(frozen=True, slots=True)
class HoursRow:
    line: int
    record_id: str
    volunteer_id: str
    name: str
    hours: Decimal
    activity: str
    certified_on: dt.date

    def coins(self, rate: int) -> int:
        return int(self.hours * rate)


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str


def _date(text: str) -> dt.date:
    text = text.strip().replace("/", "-").replace(".", "-")
    return dt.date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))


def parse(data: bytes) -> tuple[list[HoursRow], list[RowError]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowError(1, "the file is not UTF-8 text")]
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], [RowError(1, "the file is empty")]
    columns: dict[str, int] = {}
    for field, names in HEADERS.items():
        for i, h in enumerate(header):
            if h in names:
                columns[field] = i
    missing = [HEADERS[f][0] for f in HEADERS if f not in columns]
    if missing:
        return [], [RowError(1, f"missing columns: {', '.join(missing)}")]
    rows: list[HoursRow] = []
    errors: list[RowError] = []
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            errors.append(RowError(line, f"expected {len(header)} columns, found {len(cells)}"))
            continue
        get = {f: cells[i].strip() for f, i in columns.items()}
        if not get["record_id"]:
            errors.append(RowError(line, "record_id is empty"))
            continue
        if not get["volunteer_id"]:
            errors.append(RowError(line, "volunteer_id is empty"))
            continue
        try:
            hours = Decimal(get["hours"])
        except InvalidOperation:
            errors.append(RowError(line, f"hours {get['hours']!r} is not a number"))
            continue
        if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
            errors.append(RowError(line, f"hours {get['hours']!r} must be more than 0 and at most 24"))
            continue
        if (hours * 10) % 1 != 0:
            errors.append(RowError(line, f"hours {get['hours']!r} has more than one decimal"))
            continue
        try:
            certified = _date(get["certified_on"])
        except ValueError:
            errors.append(RowError(line, f"certified_on {get['certified_on']!r} is not a date"))
            continue
        rows.append(
            HoursRow(
                line, get["record_id"], get["volunteer_id"], get["name"], hours, get["activity"], certified
            )
        )
    return rows, errors
