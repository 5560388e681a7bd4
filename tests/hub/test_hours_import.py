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


EXCEL_ON_CHINESE_WINDOWS = (
    "记录编号,志愿者编号,姓名,服务时长,活动名称,认定日期\r\n"
    "G1,V1,赵小明,2,助老送餐,2026/11/01\r\n"
    'G2,V2,钱秀英,1.5,"社区清洁,垃圾分类宣传",2026/11/02\r\n'
    "G3,V3,王䶮,1,读书会（少儿）,2026/11/02\r\n"
)
"""What Excel writes on a Chinese Windows PC ("CSV (逗号分隔)"): code page 936, CRLF. 䶮 (in
people's names) is outside GBK: GB18030 has it."""


def notes(hub: Hub) -> dict[str, str]:
    from sqlalchemy import select

    from hub.models import LedgerEntry

    with hub.reading() as s:
        return {str(e.record_id): str(e.note) for e in s.scalars(select(LedgerEntry))}


def test_an_excel_file_in_gb18030_with_crlf_imports_every_name_and_activity(hub: Hub) -> None:
    data = EXCEL_ON_CHINESE_WINDOWS.encode("gb18030")
    assert b"\r\n" in data and data.count("赵小明".encode("gb18030")) == 1
    report = hub.import_hours(data)
    assert report.as_json() == {"imported": 3, "duplicates": 0, "errors": []}
    names = {vid: hub.volunteer_name(vid) for vid in ("V1", "V2", "V3")}
    assert names == {"V1": "赵小明", "V2": "钱秀英", "V3": "王䶮"}
    assert notes(hub) == {
        "G1": "2 h · 助老送餐 · 2026-11-01",
        "G2": "1.5 h · 社区清洁,垃圾分类宣传 · 2026-11-02",
        "G3": "1 h · 读书会(少儿) · 2026-11-02",  # NFKC: full-width brackets become plain ones
    }
    assert hub.balance("V2")["balance"] == 15
    assert hub.import_hours(data).as_json() == {"imported": 0, "duplicates": 3, "errors": []}


def test_utf8_with_crlf_and_a_bom_still_reads_as_utf8(hub: Hub) -> None:
    report = hub.import_hours(b"\xef\xbb\xbf" + EXCEL_ON_CHINESE_WINDOWS.encode("utf-8"))
    assert report.imported == 3 and hub.volunteer_name("V3") == "王䶮"


def test_the_command_imports_a_gb18030_file_and_refuses_one_that_is_neither(
    db_url: str, tmp_path: Path
) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub", "--db", db_url, *args], capture_output=True, text=True, timeout=60
        )

    excel = tmp_path / "工时.csv"
    excel.write_bytes(EXCEL_ON_CHINESE_WINDOWS.encode("gb18030"))
    out = run("import-hours", str(excel))
    assert (out.returncode, out.stderr) == (0, "")
    assert json.loads(out.stdout) == {"imported": 3, "duplicates": 0, "errors": []}
    assert json.loads(run("balance", "V1").stdout)["balance"] == 20
    utf16 = tmp_path / "utf16.csv"  # "Unicode text" from Excel: neither
    utf16.write_bytes(EXCEL_ON_CHINESE_WINDOWS.encode("utf-16"))
    out = run("import-hours", str(utf16))
    assert (out.returncode, out.stdout) == (2, "")
    neither = "line 1: the file is neither UTF-8 nor GB18030 (GBK) text (byte 0xff)"
    assert out.stderr == f"kiosk-hub: {utf16}: {neither}\n"
