"""The sentence catalogue: in step with the source, complete, and covering every key.

The source's message ids (Chinese sentences in ``say``/``say_in``/``N_``/``N_in`` calls)
and ``kiosk/locale/en/LC_MESSAGES/kiosk.po`` must hold the same sentences, each with its
English, and the committed ``kiosk.mo`` must be compiled from that ``.po``
(``scripts/catalogue.py`` does all three; README, "Adding a sentence").
"""

from __future__ import annotations

import ast
import fnmatch
import re
import string
import tomllib
from pathlib import Path

import pytest

from drivers.machine import Flag, Outcome
from kiosk.core.messages import NOTICES, UNKNOWN_NOTICE, catalogue, notice_text, say, say_in
from kiosk.core.rules import Refusal
from kiosk.ui import wording
from protocol.codes import CodeReason
from protocol.sync import Refused
from scripts.catalogue import DOMAINS, HUB, Domain, extract, mo_path, po_path, problems, read, translations

ROOT = Path(__file__).resolve().parents[1]
HAN = re.compile(r"[\u3400-\u9fff]")


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.name)
def test_the_catalogue_is_in_step_with_the_source(domain: Domain) -> None:
    """No id without English, no entry the source no longer uses, a fresh .mo (the kiosk's
    and the hub console's)."""
    assert problems("en", domain=domain) == []


def test_the_consoles_templates_are_read_for_sentences() -> None:
    ids = {str(m.id) for m in extract(HUB)}
    assert {"总览", "兑换记录", "用户名或密码不正确"} <= ids  # a template, a template, Python


def test_the_check_finds_a_sentence_the_po_lacks(tmp_path: Path) -> None:
    template = extract()
    template.add("一句还没有英文的话")
    assert any("not in en/kiosk.po" in p and "一句还没有英文的话" in p for p in problems("en", template))


def test_each_english_sentence_fills_the_same_blanks_as_its_chinese() -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}

    for message in read("en"):
        if message.id:
            assert fields(str(message.string)) == fields(str(message.id)), message.id


def test_english_sentences_have_no_chinese_but_the_unit() -> None:
    for (_, msgid), en in translations(mo_path("en").read_bytes()).items():
        assert not HAN.search(en.replace("益币", "")), (msgid, en)


def test_the_compiled_catalogue_ships_with_the_package() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = str(mo_path("en").relative_to(ROOT / "kiosk"))
    assert any(fnmatch.fnmatch(shipped, pattern) for pattern in data["kiosk"])
    assert po_path("en").exists()


def test_say_reads_the_catalogue_in_the_language_it_is_given() -> None:
    assert say("请扫描志愿者码", "zh") == "请扫描志愿者码"
    assert say("请扫描志愿者码", "en") == "Please scan your volunteer code"
    assert say("余额 {n} 益币", "en", n=15) == "Balance 15 益币"
    assert say_in("tab", "货道", "en") == "Lanes"
    assert say("货道", "en") == "Lane"
    with pytest.raises(ValueError, match="no catalogue"):
        catalogue("fr")


def test_every_key_the_core_raises_has_a_sentence() -> None:
    keys = {r.value for r in Refusal} | {r.value for r in CodeReason}
    keys |= {"busy", "trust_stale", "tech_pin_wrong", "tech_pin_locked", "tech_unknown"}
    keys |= {"card_pin_wrong", "card_pin_locked", "card_pin_locked_hours"}
    assert keys - NOTICES.keys() == set()
    for key in NOTICES:
        assert HAN.search(notice_text(key, "zh", {"n": 2}))
        assert not HAN.search(notice_text(key, "en", {"n": 2}).replace("益币", ""))


def test_a_notice_with_no_sentence_never_shows_its_key() -> None:
    assert notice_text("no_such_reason", "en") == say(UNKNOWN_NOTICE, "en")


def _literal_args(path: Path, functions: set[str]) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in functions:
                for arg in node.args:
                    value = arg.value if isinstance(arg, ast.Constant) else None
                    if isinstance(value, str) and re.fullmatch(r"[a-z]+(_[a-z]+)+", value):
                        found.add(value)
    return found


def test_every_audit_action_the_store_writes_reads_as_a_sentence() -> None:
    actions: set[str] = set()
    for path in [*(ROOT / "kiosk" / "store").glob("*.py"), *(ROOT / "kiosk" / "services").glob("*.py")]:
        actions |= _literal_args(path, {"_audit", "audit", "save_pin_state", "note_action"})
    assert {"lane_changed", "item_added", "test_vend", "tech_login"} <= actions  # the scan works
    assert actions - wording.AUDIT_ACTIONS.keys() == set()
    for action in actions:
        assert not HAN.search(wording.audit_action(action, "en").replace("益币", ""))
        assert HAN.search(wording.audit_action(action, "zh"))


def test_every_board_flag_and_vend_state_reads_as_a_sentence() -> None:
    assert {f.value for f in Flag} - wording.FLAGS.keys() == set()
    states = {o.value for o in Outcome} | {"in_flight", "refunded"}
    assert states - wording.VEND_STATES.keys() == set()


def test_audit_fields_read_as_sentences_in_each_language() -> None:
    names = {1: "抽纸"}.get
    after = '{"price": 18, "enabled": false, "fault": "motor_did_not_turn,timeout", "item_id": 1}'
    zh = "价格 18 益币，已停用，故障：电机没有转动、超时，商品 抽纸"
    assert wording.audit_fields(after, "zh", names) == zh
    assert wording.audit_fields(after, "en", {1: "Tissues"}.get) == (
        "price 18 益币; disabled; fault: motor did not turn, timed out; item Tissues"
    )
    assert wording.audit_target("lane:3", "en", names) == "Lane 3"
    assert wording.audit_target("vend:0123456789abcdef", "zh", names) == "兑换记录 01234567"


def test_a_card_lockout_reads_as_a_sentence_in_each_language() -> None:
    names = {1: "抽纸"}.get
    assert wording.audit_action("card_pin_locked", "zh") == "志愿者卡密码锁定"
    assert wording.audit_target("volunteer:V0003", "en", names) == "Volunteer V0003"
    assert wording.audit_fields('{"lock_minutes": 15}', "zh", names) == "锁定 15 分钟"
    assert wording.audit_fields('{"lock_minutes": 15}', "en", names) == "locked for 15 minutes"


def test_a_hub_refusal_reads_as_a_sentence_in_each_language() -> None:
    """Every reason a hub gives (``protocol.sync.Refused``) and what the event was, in the audit log."""
    assert {r.value for r in Refused} - wording.HUB_REFUSALS.keys() == set()
    names = {1: "抽纸"}.get
    after = '{"refused": "already_reversed", "kind": "reversal", "volunteer_id": "V1", "amount": 15}'
    assert wording.audit_fields(after, "zh", names) == "那笔兑换已经退回过，退回益币，志愿者 V1，15 益币"
    assert wording.audit_fields(after, "en", names) == (
        "that redemption was refunded already; a refund; volunteer V1; 15 益币"
    )
    assert wording.audit_target("event:0123456789abcdef", "en", names) == "Uploaded record 01234567"
    assert wording.audit_actor("hub", "en") == "Hub" and wording.audit_actor("hub", "zh") == "中心"
    for reason in Refused:
        zh, en = (wording.audit_fields(f'{{"refused": "{reason}"}}', lang, names) for lang in ("zh", "en"))
        assert HAN.search(zh) and not HAN.search(en), reason
    assert wording.audit_fields('{"refused": "a_newer_reason"}', "en", names) == "a_newer_reason"
