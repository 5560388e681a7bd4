"""光荣榜, the honour roll: a community's and a street's top volunteers by certified hours,
this month and all time, as kiosks show them — without shaming anyone.

The ranking is plain functions over rows (``protocol.honour``, which the kiosk's demo uses too); :func:`board`
loads the rows for one kiosk's place and makes the board a pull page carries. Names are
masked as on every kiosk screen (赵**), only hours are shown (never a balance), and a
volunteer who opted out is on no list and has no standing. The board is the same for
every kiosk of a community, so the hub keeps each one for a minute (:class:`Boards`).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from protocol.honour import Hours, stamped, standings, top
from protocol.sync import HonourBoard

from .models import HoursMonth, Kiosk, Org, Volunteer

CITY_TZ = dt.timezone(dt.timedelta(hours=8))


def month_of(at: float) -> int:
    """The city's month as ``YYYYMM``."""
    day = dt.datetime.fromtimestamp(at, CITY_TZ)
    return day.year * 100 + day.month


def add_hours(s: Session, credited: Iterable[tuple[str, dt.date, Decimal]]) -> None:
    """Add newly credited hours to ``hours_months``, in the import's transaction (which holds
    the ledger's lock: no other import adds to the same rows meanwhile)."""
    totals: Counter[tuple[str, int]] = Counter()
    for volunteer_id, day, hours in credited:
        totals[(volunteer_id, day.year * 100 + day.month)] += int(hours * 10)
    if not totals:
        return
    table = HoursMonth.__table__
    assert isinstance(table, Table)
    con = s.connection()
    dialect_insert = pg_insert if con.dialect.name == "postgresql" else sqlite_insert
    rows = [{"volunteer_id": v, "month": m, "tenths": t} for (v, m), t in sorted(totals.items())]
    for start in range(0, len(rows), 5000):
        stmt = dialect_insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["volunteer_id", "month"], set_={"tenths": table.c.tenths + stmt.excluded.tenths}
        )
        con.execute(stmt, rows[start : start + 5000])


def _places(s: Session, kiosk_id: str) -> tuple[Org | None, Org | None]:
    """The kiosk's community and street (either may be missing)."""
    kiosk = s.get(Kiosk, kiosk_id)
    org = s.get(Org, kiosk.org_id) if kiosk is not None and kiosk.org_id is not None else None
    if org is None:
        return None, None
    if org.level == "community":
        parent = s.get(Org, org.parent_id) if org.parent_id is not None else None
        return org, parent
    if org.level == "street":
        return None, org
    return None, None


def _hours(s: Session, org_ids: Sequence[int], month: int | None) -> list[Hours]:
    q = (
        select(Volunteer.id, Volunteer.name, func.sum(HoursMonth.tenths))
        .join(HoursMonth, HoursMonth.volunteer_id == Volunteer.id)
        .where(Volunteer.org_id.in_(org_ids), Volunteer.ranked.is_(True))
        .group_by(Volunteer.id, Volunteer.name)
    )
    if month is not None:
        q = q.where(HoursMonth.month == month)
    return [Hours(str(v), str(n), int(t or 0)) for v, n, t in s.execute(q)]


def board(s: Session, kiosk_id: str, now: float) -> HonourBoard | None:
    """The board for a kiosk's place (None: the kiosk stands in no community or street)."""
    community, street = _places(s, kiosk_id)
    if community is None and street is None:
        return None
    month = month_of(now)
    lists: dict[str, list[tuple[str, int]]] = {}
    mine: list[tuple[str, int, int]] = []
    if community is not None:
        this_month = _hours(s, [community.id], month)
        lists.update(community_month=top(this_month), community_all=top(_hours(s, [community.id], None)))
        mine = standings(this_month)
    if street is not None:
        under = [street.id, *s.scalars(select(Org.id).where(Org.parent_id == street.id))]
        lists.update(street_month=top(_hours(s, under, month)), street_all=top(_hours(s, under, None)))
    return stamped(
        {
            "month": month,
            "community": community.name if community else None,
            "street": street.name if street else None,
            **lists,
            "standings": mine,
        }
    )


class Boards:
    """Each kiosk's board, made at most once a minute (the kiosks of a city pull every minute)."""

    def __init__(self, ttl_s: float = 60.0) -> None:
        self.ttl_s = ttl_s
        self._made: dict[str, tuple[float, HonourBoard | None]] = {}
        self._lock = threading.Lock()

    def get(self, s: Session, kiosk_id: str, now: float) -> HonourBoard | None:
        with self._lock:
            kept = self._made.get(kiosk_id)
        if kept is not None and time.monotonic() - kept[0] < self.ttl_s:
            return kept[1]
        made = board(s, kiosk_id, now)
        with self._lock:
            self._made[kiosk_id] = (time.monotonic(), made)
        return made

    def clear(self) -> None:
        with self._lock:
            self._made.clear()
