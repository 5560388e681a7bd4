"""How the technician screen words the kiosk's records: plain Python, no Qt.

The store keeps stable keys (an audit action ``lane_refilled``, a target ``lane:3``,
before and after as JSON, a vend state ``not_dispensed``, the board's flags); a
technician reads sentences. Each function here takes the screen's language and returns
text from the catalogue of :mod:`kiosk.core.messages`. A key with no sentence (a new one
from a newer store) is shown as it is rather than hidden.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..core.catalog import Item
from ..core.messages import N_, Lang, N_in, say, say_in
from ..core.sync_problems import SyncProblem

VEND_STATES: dict[str, str] = {
    "in_flight": N_("出货中"),
    "dispensed": N_("已出货"),
    "not_dispensed": N_("未出货"),
    "unknown": N_("待核实"),
    "refunded": N_("已退回"),
}
"""A redemption's state (and a test vend's outcome) as the technician reads it."""

FLAGS: dict[str, str] = {
    "motor_not_home": N_("电机未回原位"),
    "motor_did_not_turn": N_("电机没有转动"),
    "motor_not_home_in_time": N_("电机未按时回位（可能卡货）"),
    "drop_sensor_saw_nothing": N_("掉货传感器没有检测到物品"),
    "invalid_slot": N_("货道号无效"),
    "drop_sensor_fault": N_("掉货传感器故障"),
    "board_not_answering": N_("主板无应答"),
    "door_open": N_("维修门开着"),
    "timeout": N_("超时"),
    "board_restarted": N_("主板重启过"),
    "dispense_not_received": N_("主板没有收到出货指令"),
    "board_forgot_dispense": N_("主板已不记得这次出货（可能有其他设备连过主板）"),
}
"""The lane board's reason flags (``drivers.machine.Flag`` values)."""

AUDIT = "audit log"
"""The gettext context of the audit log's action names (some read as buttons elsewhere)."""

AUDIT_ACTIONS: dict[str, str] = {
    "lane_changed": N_in("audit log", "修改货道"),
    "lane_refilled": N_in("audit log", "补货"),
    "lane_added": N_in("audit log", "新增货道"),
    "lane_disabled": N_in("audit log", "货道自动停用"),
    "item_changed": N_in("audit log", "修改商品"),
    "item_added": N_in("audit log", "新增商品"),
    "test_vend": N_in("audit log", "测试出货"),
    "vend_settled": N_in("audit log", "核实出货"),
    "vend_refunded": N_in("audit log", "退回益币"),
    "tech_login": N_in("audit log", "技术员登录"),
    "tech_pin_wrong": N_in("audit log", "PIN 输错"),
    "card_pin_locked": N_in("audit log", "志愿者卡密码锁定"),
    "event_refused": N_in("audit log", "中心拒收"),
    "left_to_desktop": N_in("audit log", "关闭自助机程序"),
}
"""Every action the store writes to the audit log (a test checks none is missing)."""

ACTORS: dict[str, str] = {
    "machine": N_("机器"),
    "demo": N_("演示数据"),
    "hub": N_("中心"),
}
"""Who wrote an audit row when it was not a technician (whose id is shown as it is)."""

HUB_REFUSALS: dict[str, str] = {
    "unknown_volunteer": N_("中心没有这位志愿者"),
    "amount_over_limit": N_("金额超过中心的单笔上限"),
    "at_out_of_window": N_("时间不对，请检查本机时钟"),
    "charge_not_named": N_("退回没有注明是哪笔兑换"),
    "no_such_charge": N_("中心找不到要退回的那笔兑换"),
    "reversal_exceeds_charge": N_("退回超过了那笔兑换的金额"),
    "already_reversed": N_("那笔兑换已经退回过"),
    "conflict": N_("中心已有同一编号、内容不同的记录"),
}
"""Why the hub refused an event (``protocol.sync.Refused``), as the audit log says it."""

EVENT = "refused event"
"""The gettext context of what a refused event was."""

EVENT_KINDS: dict[str, str] = {
    "redemption": N_in("refused event", "兑换"),
    "reversal": N_in("refused event", "退回益币"),
    "audit": N_in("refused event", "操作记录"),
}
"""What a refused event was."""

SCANNER_STATES: dict[str, str] = {
    "connecting": N_("正在连接"),
    "connected": N_("已连接"),
    "disconnected": N_("未连接"),
}


def when(at: int) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(at))


def vend_state(state: str, lang: Lang) -> str:
    msgid = VEND_STATES.get(state)
    return state if msgid is None else say(msgid, lang)


def flag(value: str, lang: Lang) -> str:
    msgid = FLAGS.get(value)
    return value if msgid is None else say(msgid, lang)


def listing(parts: Iterable[str], lang: Lang) -> str:
    """Parts of one line (the fields of an audit row), joined as the language does."""
    return say_in("list separator", "，", lang).join(parts)


def flags(values: str | Sequence[str], lang: Lang) -> str:
    """A comma-joined flag string as the store keeps it, or a list of flags."""
    if isinstance(values, str):
        values = [v for v in values.split(",") if v]
    return say_in("flag separator", "、", lang).join(flag(v, lang) for v in values)


def audit_action(action: str, lang: Lang) -> str:
    msgid = AUDIT_ACTIONS.get(action)
    return action if msgid is None else say_in(AUDIT, msgid, lang)


def audit_actor(actor: str, lang: Lang) -> str:
    msgid = ACTORS.get(actor)
    return actor if msgid is None else say(msgid, lang)


def audit_target(target: str, lang: Lang, item_name: Callable[[int], str | None]) -> str:
    kind, _, ref = target.partition(":")
    if kind == "lane" and ref.isdigit():
        return say("货道 {n}", lang, n=int(ref))
    if kind == "item" and ref.isdigit():
        name = item_name(int(ref))
        return name if name is not None else say("商品 {n}", lang, n=int(ref))
    if kind == "vend" and ref:
        return say("兑换记录 {ref}", lang, ref=ref[:8])
    if kind == "tech" and ref:
        return say("技术员 {id}", lang, id=ref)
    if kind == "volunteer" and ref:  # capitalised in English, as the other targets
        return say_in("audit target", "志愿者 {id}", lang, id=ref)
    if kind == "event" and ref:
        return say("上传记录 {ref}", lang, ref=ref[:8])
    return target


def _field(key: str, value: Any, lang: Lang, item_name: Callable[[int], str | None]) -> str | None:
    if key == "price":
        return say("价格 {n} 益币", lang, n=value)
    if key == "stock":
        return say("库存 {n}", lang, n="—" if value is None else value)
    if key == "capacity":
        return say("容量 {n}", lang, n=value)
    if key == "enabled":
        return say("已启用", lang) if value else say("已停用", lang)
    if key == "item_id":
        if value is None:
            return say("不放商品", lang)
        name = item_name(int(value))
        return say("商品 {name}", lang, name=name if name is not None else value)
    if key == "name_zh":
        return say("中文名 {name}", lang, name=value)
    if key == "name_en":
        return say("英文名 {name}", lang, name=value)
    if key == "image":
        return say("图片 {file}", lang, file=value or "—")
    if key == "fault":
        return say("无故障", lang) if not value else say("故障：{flags}", lang, flags=flags(value, lang))
    if key in ("state", "outcome"):
        return vend_state(str(value), lang)
    if key == "flags":
        return flags(value, lang) if value else None
    if key == "refused":
        msgid = HUB_REFUSALS.get(str(value))
        return str(value) if msgid is None else say(msgid, lang)
    if key == "kind":
        msgid = EVENT_KINDS.get(str(value))
        return str(value) if msgid is None else say_in(EVENT, msgid, lang)
    if key == "volunteer_id":
        return say("志愿者 {id}", lang, id=value)
    if key == "amount":
        return say("{n} 益币", lang, n=value)
    if key == "lock_minutes":
        return say("锁定 {n} 分钟", lang, n=value)
    return f"{key} {value}"


def audit_fields(text: str | None, lang: Lang, item_name: Callable[[int], str | None]) -> str:
    """Before or after of an audit row (JSON in the store) as one readable line."""
    if not text:
        return ""
    try:
        fields = json.loads(text)
    except ValueError:
        return text
    if not isinstance(fields, Mapping):
        return text
    parts = [_field(str(k), v, lang, item_name) for k, v in fields.items()]
    return listing((p for p in parts if p), lang)


def item_names(items: Iterable[Item], lang: Lang) -> Callable[[int], str | None]:
    """Look up an item's name by id, as ``lang`` shows it."""
    by_id = {item.id: item.name(lang) for item in items}
    return by_id.get


def sync_line(
    last_sync: str | None,
    queued: int,
    has_hub: bool,
    offline: bool,
    lang: Lang,
    problem: SyncProblem | None = None,
) -> str:
    """The last good sync and what waits to go up; below it, why the last sync failed."""
    if not has_hub:
        return say("同步：未配置中心", lang)
    last = when(int(float(last_sync))) if last_sync else say("从未", lang)
    line = say("同步：上次 {when} · 待上传 {n}", lang, when=last, n=queued)
    if offline:
        line += " · " + say("离线，限额生效", lang)
    if problem is not None:
        line += "\n" + problem.sentence(lang)
    return line


def status_lines(
    alive: bool,
    door_open: bool,
    flap_open: bool,
    temperature_c: int | None,
    scanner: str | None,
    errors: Sequence[str],
    lang: Lang,
) -> str:
    """The machine's state, the scanner's, and the driver's latest error lines (verbatim)."""
    if not alive:
        parts = [say("机器无应答", lang)]
    else:
        parts = [say("机器正常", lang)]
        if door_open:
            parts.append(say("维修门开着", lang))
        if flap_open:
            parts.append(say("取物口开着", lang))
        if temperature_c is not None:
            parts.append(f"{temperature_c} °C")
    if scanner is not None:
        state = SCANNER_STATES.get(scanner)
        parts.append(say("扫码器：{state}", lang, state=scanner if state is None else say(state, lang)))
    lines = [" · ".join(parts)]
    if errors:
        lines.append(say("最近错误：{errors}", lang, errors=" | ".join(errors[-3:])))
    return "\n".join(lines)
