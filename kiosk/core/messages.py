"""Every sentence the kiosk shows, in Chinese first and English second.

Keys are the stable reasons of the core (``expired``, ``sold_out`` …) and the labels of
the screens. A refusal is one short friendly sentence that tells the person what to do
next; it never shows a reason code or a stack trace.
"""

from __future__ import annotations

from typing import Any

Lang = str  # "zh" or "en"

TEXT: dict[str, tuple[str, str]] = {
    # --- code reasons (docs/volunteer-code.md) ---
    "malformed": (
        "无法识别这个二维码，请出示时间银行的志愿者码",
        "This is not a time bank code — please show your volunteer code",
    ),
    "bad_alg": (
        "这个二维码无效，请出示时间银行的志愿者码",
        "This code is not valid — please show your volunteer code",
    ),
    "unknown_key": (
        "暂时无法验证这个二维码，请联系工作人员",
        "This code can't be checked here yet — please ask a staff member",
    ),
    "bad_signature": (
        "这个二维码无效，请在手机上重新打开志愿者码",
        "This code is not valid — please open your volunteer code again",
    ),
    "wrong_issuer": ("这个二维码不属于本时间银行", "This code belongs to another time bank"),
    "expired": (
        "二维码已过期，请在手机上刷新后再扫",
        "This code has expired — refresh it on your phone and scan again",
    ),
    "not_yet_valid": (
        "二维码时间不对，请检查手机时间后刷新再扫",
        "This code's time is off — check your phone's clock, refresh and scan again",
    ),
    "lifetime_too_long": (
        "这个二维码无效，请刷新后再扫",
        "This code is not valid — refresh it and scan again",
    ),
    "revoked": (
        "这张卡已挂失停用，请联系工作人员补办",
        "This card was reported lost — please ask a staff member for a new one",
    ),
    "replayed": (
        "这个二维码已经用过了，请刷新后再扫",
        "This code was already used — refresh it and scan again",
    ),
    # --- redemption refusals (core.rules) ---
    "insufficient_balance": ("益币不足，换一件试试吧", "Not enough 益币 for this — try another item"),
    "visit_cap": (
        "每次最多兑换 {n} 件，请先确认已选的物品",
        "Up to {n} items per visit — please confirm what you picked",
    ),
    "daily_item_cap": (
        "这件物品今天已兑换 {n} 次，明天再来吧",
        "You've had this {n} times today — come back tomorrow",
    ),
    "sold_out": ("这件物品已经兑完了，换一件吧", "This item is sold out — please pick another"),
    "machine_fault": (
        "机器暂时出了故障，未扣益币，请联系工作人员",
        "The machine has a fault — no 益币 were taken; please ask a staff member",
    ),
    "unknown_volunteer": (
        "还没有找到您的志愿者记录，请联系工作人员",
        "We can't find your volunteer record yet — please ask a staff member",
    ),
    "not_a_volunteer": (
        "这是工作人员码，请出示志愿者码",
        "This is a staff code — please show a volunteer code",
    ),
    "offline_cap": (
        "网络暂时中断，今天离线兑换已达上限，联网后再来吧",
        "The network is down and today's offline limit is reached — please come back later",
    ),
    "trust_stale": (
        "机器太久没有联网，暂时不能验证二维码，请联系工作人员",
        "This machine has been offline too long to check codes — please ask a staff member",
    ),
    "busy": ("请稍候，正在处理上一位的兑换", "Please wait — the previous redemption is still being handled"),
    # --- screens ---
    "app_title": ("时间银行 · 益币兑换", "Time Bank · 益币 Redemption"),
    "scan_prompt": ("请扫描志愿者码", "Please scan your volunteer code"),
    "scan_hint": (
        "打开志愿者 App 的二维码，或出示志愿者卡，对准下方扫码口",
        "Open the code in your volunteer app, or show your card, under the scanner below",
    ),
    "on_offer": ("今日可兑换", "On offer today"),
    "hello": ("您好，{name}", "Hello, {name}"),
    "balance": ("益币余额", "益币 balance"),
    "coins": ("{n} 益币", "{n} 益币"),
    "price": ("{n} 益币", "{n} 益币"),
    "stock_left": ("剩 {n} 件", "{n} left"),
    "sold_out_tag": ("已兑完", "Sold out"),
    "unaffordable_tag": ("益币不足", "Not enough 益币"),
    "cap_tag": ("今日已达上限", "Daily limit reached"),
    "offline_tag": ("离线限额", "Offline limit"),
    "cart": ("已选 {n} 件，共 {total} 益币", "{n} picked, {total} 益币 in all"),
    "cart_empty": ("点选想要的物品", "Tap the items you want"),
    "next": ("去确认", "Review"),
    "cancel": ("取消", "Cancel"),
    "back": ("返回", "Back"),
    "confirm_title": ("请确认兑换", "Please confirm"),
    "confirm_total": (
        "合计 {total} 益币，兑换后余额 {left} 益币",
        "Total {total} 益币, {left} 益币 left after",
    ),
    "confirm_button": ("确认兑换", "Redeem"),
    "dispensing_title": ("正在出货，请稍候", "Dispensing — please wait"),
    "dispensing_hint": ("物品会掉到下方取物口", "Your items will drop into the tray below"),
    "line_pending": ("等待中", "Waiting"),
    "line_dispensing": ("出货中…", "Dropping…"),
    "line_dispensed": ("已出货", "Dispensed"),
    "line_failed": ("未出货，未扣益币", "Not dispensed, no 益币 taken"),
    "line_unknown": ("待核实，暂未扣益币", "Being checked, no 益币 taken yet"),
    "line_skipped": ("已取消", "Cancelled"),
    "result_ok": ("已出货，请从取物口取走", "Dispensed — please take your items from the tray"),
    "result_partial": (
        "部分物品未出货，未出货的未扣益币",
        "Some items did not drop — you were not charged for them",
    ),
    "result_none": ("未出货，未扣益币", "Nothing was dispensed — no 益币 were taken"),
    "result_balance": ("余额 {n} 益币", "Balance {n} 益币"),
    "done": ("完成", "Done"),
    "thanks": ("感谢您的志愿服务！", "Thank you for volunteering!"),
    "language": ("English", "中文"),
    "remove": ("移除", "Remove"),
    # --- technician ---
    "tech_pin_title": ("技术员登录：请输入 PIN", "Technician: enter your PIN"),
    "tech_pin_wrong": ("PIN 不正确，还可以再试 {n} 次", "Wrong PIN — {n} tries left"),
    "tech_pin_locked": ("PIN 已锁定，请 {n} 分钟后再试", "PIN locked — try again in {n} minutes"),
    "tech_unknown": ("这个技术员码未登记，请联系管理员", "This technician is not registered here"),
    "tech_title": ("技术员模式", "Technician mode"),
    "tech_lanes": ("货道", "Lanes"),
    "tech_items": ("商品", "Items"),
    "tech_recent": ("最近兑换", "Recent redemptions"),
    "tech_exit": ("退出", "Exit"),
    "tech_refill": ("补满", "Refill"),
    "tech_refill_all": ("全部补满", "Refill all"),
    "tech_test_vend": ("测试出货", "Test vend"),
    "tech_save": ("保存", "Save"),
    "tech_saved": ("已保存", "Saved"),
    "tech_add_item": ("新增商品", "Add item"),
    "tech_in_doubt": ("待核实出货 ({n})", "To verify ({n})"),
    "tech_settle_dropped": ("已出货·扣", "Dropped: charge"),
    "tech_settle_not_dropped": ("未出货·退", "Not dropped: release"),
    "tech_refund": ("退回益币", "Refund"),
    "tech_refund_confirm": ("再点一次确认", "Tap again to refund"),
    "ok": ("确定", "OK"),
    "clear": ("清除", "Clear"),
}


def say(key: str, lang: Lang = "zh", **kw: Any) -> str:
    zh, en = TEXT.get(key, (key, key))
    text = en if lang == "en" else zh
    return text.format(**kw) if kw else text
