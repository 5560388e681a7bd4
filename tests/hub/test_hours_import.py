"""Hours import: idempotent by record id, bad rows reported, Chinese headers, BOM.

More in ``test_hours_rows.py``: what a row must be, duplicates and conflicts, one transaction.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub.hours import HoursFileError
from hub.service import Hub

CSV = """record_id,volunteer_id,name,hours,activity,certified_on
R1,V1,赵小明,2,助老送餐,2026-11-01
R2,V1,赵小明,1.5,社区清洁,2026-11-02
R3,V2,钱秀英,0.5,读书会,2026-11-02
"""

CHINESE = """记录编号,志愿者编号,姓名,服务时长,活动名称,认定日期
C1,V3,孙建国,3,关爱老人,2026/11/03
"""


def test_hours_become_coins_and_a_second_import_changes_nothing(hub: Hub) -> None:
    first = hub.import_hours(CSV.encode())
    assert first.as_json() == {"imported": 3, "duplicates": 0, "errors": []}
    assert hub.balance("V1") == {"volunteer_id": "V1", "balance": 35, "flagged": False}
    assert hub.balance("V2")["balance"] == 5
    again = hub.import_hours(CSV.encode())
    assert again.as_json() == {"imported": 0, "duplicates": 3, "errors": []}
    assert hub.balance("V1")["balance"] == 35


def test_chinese_headers_and_a_bom(hub: Hub) -> None:
    report = hub.import_hours(b"\xef\xbb\xbf" + CHINESE.encode())
    assert report.imported == 1 and report.errors == []
    assert hub.balance("V3")["balance"] == 30


def test_bad_rows_are_reported_and_do_not_stop_the_good_ones(hub: Hub) -> None:
    data = (
        "record_id,volunteer_id,name,hours,activity,certified_on\n"
        "B1,V9,李思思,1,a,2026-11-01\n"
        "B2,V9,李思思,1.25,a,2026-11-01\n"
        "B3,V9,李思思,abc,a,2026-11-01\n"
        "B4,,李思思,1,a,2026-11-01\n"
        "B5,V9,李思思,-2,a,2026-11-01\n"
        "B6,V9,李思思,1,a,yesterday\n"
        "B7,V9\n"
        "B1,V9,李思思,1,a,2026-11-01\n"
        "B8,V9,李思思,2.0,a,2026-11-01\n"
    )
    report = hub.import_hours(data.encode())
    assert report.imported == 2 and report.duplicates == 1
    assert [e["line"] for e in report.errors] == [3, 4, 5, 6, 7, 8]
    assert "more than one decimal" in report.errors[0]["reason"]
    assert hub.balance("V9")["balance"] == 30


def test_a_file_without_the_columns(hub: Hub) -> None:
    with pytest.raises(HoursFileError, match="line 1: missing columns: record_id"):
        hub.import_hours(b"a,b,c\n1,2,3\n")


def test_the_command_line(hub_url: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "hours.csv"
    csv_file.write_bytes(b"\xef\xbb\xbf" + CSV.encode())

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub", "--db", hub_url, *args], capture_output=True, text=True, timeout=60
        )

    out = run("import-hours", str(csv_file))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"imported": 3, "duplicates": 0, "errors": []}
    assert json.loads(run("balance", "V1").stdout) == {"volunteer_id": "V1", "balance": 35, "flagged": False}
    assert run("balance", "nobody").returncode == 1
    added = json.loads(run("kiosk", "add", "社区服务站-1").stdout)
    assert set(added) == {"kiosk_id", "token"} and len(added["token"]) > 30
    assert run("kiosk", "add", "社区服务站-1").returncode == 2
    app = json.loads(run("app", "add", "志愿者小程序").stdout)
    assert set(app) == {"app_id", "token"}
    code = run("code", "issue", "V1").stdout.strip()
    assert code.count(".") == 2
    assert run("import-hours", str(tmp_path / "missing.csv")).returncode == 2
