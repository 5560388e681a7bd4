"""Hours import, row by row: what fits the ledger, duplicates and conflicts, one transaction.

Each test runs on SQLite and on PostgreSQL (the ``hub`` fixture); PostgreSQL is the one
that refuses a name longer than its column, which once left half a file imported.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from hub import cli
from hub.hours import LIMITS, HoursFileError, parse
from hub.models import LedgerEntry, Volunteer
from hub.service import Hub, ImportRefused, UnknownVolunteer

HEADER = "record_id,volunteer_id,name,hours,activity,certified_on\n"
TODAY = dt.date(2026, 11, 23)


def csv_of(*rows: str) -> bytes:
    return (HEADER + "".join(f"{r}\n" for r in rows)).encode()


def many(n: int, **at_line: str) -> bytes:
    """``n`` good rows (R0.. for V0.., 1 h each); ``at_line`` replaces a line's row."""
    rows = [f"R{i},V{i},志愿者{i},1,助老,2026-11-01" for i in range(n)]
    for key, row in at_line.items():
        rows[int(key.removeprefix("line")) - 2] = row  # line 1 is the header
    return csv_of(*rows)


def count(hub: Hub, table: type[LedgerEntry] | type[Volunteer]) -> int:
    with hub.reading() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def errors_at(report_errors: list[dict[str, object]]) -> dict[object, object]:
    return {e["line"]: e["reason"] for e in report_errors}


def test_a_name_too_long_at_line_1202_is_refused_and_the_other_rows_go_in(hub: Hub) -> None:
    long_name = "名" * 150
    data = many(2000, line1202=f"R1200,V1200,{long_name},1,助老,2026-11-01")
    done: list[tuple[int, int]] = []
    report = hub.import_hours(data, progress=lambda n, total: done.append((n, total)))
    assert report.as_json() == {
        "imported": 1999,
        "duplicates": 0,
        "errors": [{"line": 1202, "reason": "name: 150 characters, at most 100"}],
    }
    assert count(hub, LedgerEntry) == 1999 and count(hub, Volunteer) == 1999
    assert hub.balance("V1999")["balance"] == 10
    with pytest.raises(UnknownVolunteer):
        hub.balance("V1200")
    assert done == [(1000, 1999), (1999, 1999)]
    # the row, corrected, goes in next time; the others are duplicates
    again = hub.import_hours(many(2000))
    assert (again.imported, again.duplicates, again.errors) == (1, 1999, [])


def refuse_record(hub: Hub, record_id: str) -> None:
    """A trigger that makes the database itself refuse one record (as a full disk would)."""
    with hub.unit() as s:
        if s.get_bind().dialect.name == "sqlite":
            s.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON ledger "
                    f"WHEN NEW.record_id = '{record_id}' BEGIN SELECT RAISE(ABORT, 'refused here'); END"
                )
            )
        else:
            s.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.record_id = '{record_id}' THEN RAISE EXCEPTION 'refused here'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            s.execute(
                text("CREATE TRIGGER refuse BEFORE INSERT ON ledger FOR EACH ROW EXECUTE FUNCTION refuse()")
            )


def test_a_row_the_database_refuses_after_a_thousand_applies_nothing(hub: Hub) -> None:
    refuse_record(hub, "R1500")
    with pytest.raises(ImportRefused, match=r"nothing was applied: .*refused here"):
        hub.import_hours(many(2000))
    assert count(hub, LedgerEntry) == 0 and count(hub, Volunteer) == 0


@pytest.mark.parametrize(
    "hours", ["1e1", "1E1", "NaN", "Infinity", "+2", "2.", ".5", "0", "0.0", "-1", "25", "1.25", "2,5", "二"]
)
def test_hours_written_otherwise_than_plainly_are_refused(hours: str) -> None:
    rows, errors = parse(csv_of(f'R1,V1,A,"{hours}",a,2026-11-01'), TODAY)
    assert rows == []
    (error,) = errors
    assert error.line == 2 and error.reason.startswith(f"hours: {hours!r} ")


def test_1e1_is_not_ten_hours(hub: Hub) -> None:
    report = hub.import_hours(csv_of("R1,V1,A,1e1,a,2026-11-01"))
    assert report.errors == [{"line": 2, "reason": "hours: '1e1' is not a number of hours (write 2 or 2.5)"}]


def test_trailing_zeros_are_no_extra_decimal(hub: Hub) -> None:
    report = hub.import_hours(
        csv_of("R1,V1,A,2.50,a,2026-11-01", "R2,V1,A,03.00,a,2026-11-01", "R3,V1,A,24,a,2026-11-01")
    )
    assert (report.imported, report.errors) == (3, [])
    assert hub.balance("V1")["balance"] == 25 + 30 + 240


def test_full_width_digits_and_letters_are_normalised(hub: Hub) -> None:
    report = hub.import_hours(csv_of("Ｒ１,Ｖ００１,赵小明,２．５,助老,２０２６－１１－０１"))
    assert (report.imported, report.errors) == (1, [])
    assert hub.balance("V001")["balance"] == 25
    again = hub.import_hours(csv_of("R1,V001,赵小明,2.5,助老,2026-11-01"))
    assert (again.imported, again.duplicates) == (0, 1)


def test_a_record_an_older_import_kept_in_full_width_is_still_known(hub: Hub) -> None:
    with hub.unit() as s:  # before normalising, the id went in as the file wrote it
        s.add(Volunteer(id="V1", name="赵小明", flagged=False))
        s.add(
            LedgerEntry(
                id=str(uuid.uuid4()),
                volunteer_id="V1",
                kind="credit",
                amount=20,
                record_id="Ｒ１",
                note="2 h · 助老 · 2026-11-01",
                at=1,
            )
        )
    report = hub.import_hours(csv_of("Ｒ１,V1,赵小明,2,助老,2026-11-01"))
    assert (report.imported, report.duplicates, report.errors) == (0, 1, [])
    assert hub.balance("V1")["balance"] == 20


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("R" * 101 + ",V1,A,1,a,2026-11-01", "record_id: 101 characters, at most 100"),
        ("R1," + "V" * 65 + ",A,1,a,2026-11-01", "volunteer_id: 65 characters, at most 64"),
        ("R1,V1,A,1," + "活" * 179 + ",2026-11-01", "activity: 179 characters, at most 178"),
        ('R1,V1,"A\x00B",1,a,2026-11-01', "name: contains the control character U+0000"),
        ('R1,V1,A,1,"a\nb",2026-11-01', "activity: contains the control character U+000A"),
        ("R\x001,V1,A,1,a,2026-11-01", "record_id: 'R\\x001' contains U+0000:"),
        ("R1,V 1,A,1,a,2026-11-01", "volunteer_id: 'V 1' contains U+0020:"),
        ("R1,V1\x1b,A,1,a,2026-11-01", "volunteer_id: 'V1\\x1b' contains U+001B:"),
        ("R1,,A,1,a,2026-11-01", "volunteer_id: is empty"),
        ("R1,V1,A,1,a,2026-11-01,extra", "expected 6 columns, found 7"),
    ],
)
def test_a_field_that_does_not_fit_its_column_is_refused_with_its_line(row: str, reason: str) -> None:
    rows, errors = parse(csv_of("R0,V0,B,1,a,2026-11-01", row), TODAY)
    assert [r.record_id for r in rows] == ["R0"]
    (error,) = errors
    assert error.line == 3 and error.reason.startswith(reason)


def test_fields_the_database_would_refuse_never_reach_it(hub: Hub) -> None:
    report = hub.import_hours(
        csv_of(
            "R0,V0,B,1,a,2026-11-01",
            'R1,V1,"A\x00B",1,a,2026-11-01',
            "R2,V2,A,1," + "活" * 179 + ",2026-11-01",
            "R" * 101 + ",V3,A,1,a,2026-11-01",
            "R4," + "V" * 65 + ",A,1,a,2026-11-01",
        )
    )
    assert (report.imported, [e["line"] for e in report.errors]) == (1, [3, 4, 5, 6])
    assert count(hub, LedgerEntry) == 1 and count(hub, Volunteer) == 1


def test_the_longest_activity_and_names_fit(hub: Hub) -> None:
    name, activity = "名" * LIMITS["name"], "活" * LIMITS["activity"]
    report = hub.import_hours(
        csv_of(f"R1,{'V' * 64},{name},23.5,{activity},2026-11-01", "R2,V2,A,1,a,2026-11-01,")
    )
    assert (report.imported, report.errors) == (2, [])
    assert hub.volunteer_name("V" * 64) == name
    with hub.reading() as s:
        assert s.scalar(select(LedgerEntry.note).where(LedgerEntry.record_id == "R1")) == (
            f"23.5 h · {activity} · 2026-11-01"
        )


def test_dates_are_checked_and_may_be_at_most_a_day_ahead(hub: Hub) -> None:
    today = dt.datetime.now(dt.UTC).date()
    report = hub.import_hours(
        csv_of(
            f"R1,V1,A,1,a,{today + dt.timedelta(days=1)}",
            f"R2,V1,A,1,a,{today + dt.timedelta(days=2)}",
            "R3,V1,A,1,a,2026-02-30",
            "R4,V1,A,1,a,2026/11/3",
            "R5,V1,A,1,a,20261103",
            "R6,V1,A,1,a,",
        )
    )
    assert report.imported == 2
    assert errors_at(report.errors) == {
        3: f"certified_on: '{today + dt.timedelta(days=2)}' is in the future",
        4: "certified_on: '2026-02-30' is not a date (write 2026-11-01)",
        6: "certified_on: '20261103' is not a date (write 2026-11-01)",
        7: "certified_on: '' is not a date (write 2026-11-01)",
    }


def test_a_record_seen_before_with_the_same_content_is_a_duplicate(hub: Hub) -> None:
    first = hub.import_hours(csv_of("R1,V1,赵小明,2,助老,2026-11-01", "R1,V1,赵小明,2.0,助老送餐,2026/11/01"))
    assert (first.imported, first.duplicates, first.errors) == (1, 1, [])
    again = hub.import_hours(csv_of("R1,V1,赵小明,2.00,助老,2026-11-01"))
    assert (again.imported, again.duplicates, again.errors) == (0, 1, [])
    assert hub.balance("V1")["balance"] == 20


def test_a_record_seen_before_with_other_content_is_a_conflict(hub: Hub) -> None:
    first = hub.import_hours(csv_of("R1,V1,赵小明,2,助老,2026-11-01", "R1,V1,赵小明,3,助老,2026-11-01"))
    assert (first.imported, first.duplicates) == (1, 0)
    assert first.errors == [
        {
            "line": 3,
            "reason": "record_id: 'R1' conflicts: line 2 has it with volunteer V1, 2 h, 2026-11-01, "
            "this line volunteer V1, 3 h, 2026-11-01",
        }
    ]
    later = hub.import_hours(
        csv_of(
            "R1,V2,钱秀英,2,助老,2026-11-01",
            "R1,V1,赵小明,2,助老,2026-11-02",
            "R2,V1,赵小明,1,助老,2026-11-02",
        )
    )
    assert (later.imported, later.duplicates) == (1, 0)
    assert errors_at(later.errors) == {
        2: "record_id: 'R1' conflicts: the ledger has it with volunteer V1, 2 h, 2026-11-01, "
        "this line volunteer V2, 2 h, 2026-11-01",
        3: "record_id: 'R1' conflicts: the ledger has it with volunteer V1, 2 h, 2026-11-01, "
        "this line volunteer V1, 2 h, 2026-11-02",
    }
    assert hub.balance("V1")["balance"] == 30
    with pytest.raises(UnknownVolunteer):
        hub.balance("V2")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "line 1: the file is empty"),
        (HEADER.encode() + b"R1,V1,\xff,1,a,2026-11-01\n", "line 2: the file is neither UTF-8 nor GB18030"),
        (
            csv_of("R1,V1,A,1,a,2026-11-01", 'R2,V1,"A,1,a,2026-11-01'),
            "line 3: the file is not readable CSV from here: unexpected end of data",
        ),
        (csv_of('R1,V1,"A"B,1,a,2026-11-01'), "line 2: the file is not readable CSV"),
    ],
)
def test_a_file_that_cannot_be_read_as_a_whole_imports_nothing(hub: Hub, data: bytes, message: str) -> None:
    with pytest.raises(HoursFileError, match=message):
        hub.import_hours(data)
    assert count(hub, LedgerEntry) == 0


def run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", "--db", db_url, *args], capture_output=True, text=True, timeout=60
    )


def test_the_command_says_in_one_line_what_it_refused(hub_url: str, tmp_path: Path) -> None:
    hours = tmp_path / "hours.csv"
    hours.write_bytes(csv_of("R1,V1,赵小明,2,助老,2026-11-01", "R2,V1,赵小明,1e1,助老,2026-11-01"))
    out = run(hub_url, "import-hours", str(hours))
    assert out.returncode == 1
    assert json.loads(out.stdout) == {
        "imported": 1,
        "duplicates": 0,
        "errors": [{"line": 3, "reason": "hours: '1e1' is not a number of hours (write 2 or 2.5)"}],
    }
    assert out.stderr == (
        f"kiosk-hub: {hours}: imported 1, duplicates 0, refused 1 "
        "(first: line 3: hours: '1e1' is not a number of hours (write 2 or 2.5))\n"
    )
    hours.write_bytes(csv_of("R1,V1,赵小明,2,助老,2026-11-01"))
    again = run(hub_url, "import-hours", str(hours))
    assert (again.returncode, again.stderr) == (0, "")
    assert json.loads(again.stdout) == {"imported": 0, "duplicates": 1, "errors": []}


def test_the_command_refuses_a_whole_file_in_one_line(hub_url: str, tmp_path: Path) -> None:
    hours = tmp_path / "hours.csv"
    for data, args, stderr in [
        (b"a,b\n1,2\n", (), "line 1: missing columns: record_id, volunteer_id, name, hours, activity"),
        (csv_of("R1,V1,A,1,a,2026-11-01"), ("--rate", "0"), "the rate must be 1 to 89478485 益币 an hour"),
        (csv_of("R1,V1,A,1,a,2026-11-01"), ("--rate", "89478486"), "the rate must be 1 to 89478485"),
    ]:
        hours.write_bytes(data)
        out = run(hub_url, "import-hours", str(hours), *args)
        assert (out.returncode, out.stdout) == (2, "")
        assert out.stderr.startswith(f"kiosk-hub: {hours}: {stderr}") and out.stderr.count("\n") == 1


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_rows_written_so_far(
    hub_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hours = tmp_path / "hours.csv"
    hours.write_bytes(many(1500))
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["--db", hub_url, "import-hours", str(hours)]) == 0
    assert terminal.getvalue() == "\rimport-hours: 1000/1500 rows\rimport-hours: 1500/1500 rows\n"
    assert json.loads(capsys.readouterr().out)["imported"] == 1500
