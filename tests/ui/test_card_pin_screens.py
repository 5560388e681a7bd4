"""A printed card with a PIN, through the running app (pytest-qt, offscreen).

The demo's printed card (孙建国, V0003) has the PIN ``DEMO_CARD_PIN``; 赵小明 (V0001) has
none. A found card must not spend its owner's 益币: the kiosk asks for the PIN after the
card's scan, five wrong ones lock it out, and the volunteer's phone code never asks.
"""

from __future__ import annotations

import json
import logging
import sqlite3

import pytest

from kiosk.core.session import Step
from kiosk.demo import DEMO_CARD_PIN
from tests.ui.conftest import Driver

SUN = "V0003"  # 150 益币


def enter(kiosk: Driver, pin: str) -> None:
    for digit in pin:
        kiosk.tap(kiosk.w.card_pin.keys[digit])
    kiosk.tap(kiosk.w.card_pin.keys["ok"])
    kiosk.qtbot.waitUntil(lambda: kiosk.app.background.idle, timeout=5000)


def scan_card(kiosk: Driver, volunteer: str = SUN) -> None:
    kiosk.scan(kiosk.code("card", volunteer))  # each card code made here is a new string


def test_a_card_with_a_pin_asks_for_it_a_wrong_one_says_so_and_the_right_one_shows_the_balance(
    kiosk: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    scan_card(kiosk)
    assert kiosk.app.session.step is Step.CARD_PIN and kiosk.w.current is kiosk.w.card_pin
    assert kiosk.w.card_pin.title.text() == "您好，孙**"
    assert kiosk.app.session.volunteer is None  # no balance before the PIN
    enter(kiosk, "000000")
    assert kiosk.notice == "密码不对，请再试一次（还可以试 4 次）"
    assert kiosk.app.session.step is Step.CARD_PIN and kiosk.w.card_pin.dots.text() == " "
    enter(kiosk, DEMO_CARD_PIN)
    kiosk.wait_step(Step.IDENTIFIED)
    assert kiosk.w.catalog.greeting.text() == "您好，孙**" and kiosk.w.catalog.balance.text() == "150"
    kiosk.buy("Tissues")
    assert kiosk.app.parts.store.balance(SUN).available == 135
    assert DEMO_CARD_PIN not in caplog.text and "000000" not in caplog.text


def test_five_wrong_pins_lock_the_card_and_say_when_to_try_again(kiosk: Driver) -> None:
    scan_card(kiosk)
    for _ in range(4):
        enter(kiosk, "000000")
    enter(kiosk, "111111")
    kiosk.wait_step(Step.IDLE)  # no use typing on: the visit ends, saying when
    assert kiosk.notice == "密码输错太多次，请 5 分钟后再试，或联系工作人员"
    scan_card(kiosk)  # the card again, at once: refused at the scan, no PIN pad
    assert kiosk.app.session.step is Step.IDLE
    assert kiosk.notice == "密码输错太多次，请 5 分钟后再试，或联系工作人员"
    (line,) = [a for a in kiosk.app.parts.store.audit_log() if a.action == "card_pin_locked"]
    assert (line.actor, line.target, json.loads(line.after or "")) == (
        "machine",
        f"volunteer:{SUN}",
        {"lock_minutes": 5},
    )
    kiosk.clock.advance(301)
    scan_card(kiosk)
    assert kiosk.app.session.step is Step.CARD_PIN
    enter(kiosk, DEMO_CARD_PIN)
    kiosk.wait_step(Step.IDENTIFIED)
    db = sqlite3.connect(kiosk.app.parts.config.db_path)
    try:
        (stored,) = db.execute("SELECT pin_hash FROM card_pins WHERE volunteer_id = ?", (SUN,)).fetchone()
        written = db.execute("SELECT actor, action, target, before, after FROM audit").fetchall()
        queued = db.execute("SELECT body FROM outbox WHERE body IS NOT NULL").fetchall()
    finally:
        db.close()
    assert stored.startswith("scrypt$")  # never the PIN itself
    for pin in (DEMO_CARD_PIN, "000000", "111111", stored):
        assert pin not in json.dumps(written + queued)


def test_the_same_volunteers_phone_code_asks_no_pin(kiosk: Driver) -> None:
    kiosk.scan(kiosk.code("app", SUN))
    assert kiosk.app.session.step is Step.IDENTIFIED
    assert kiosk.w.catalog.balance.text() == "150"


def test_a_card_without_a_pin_is_as_before(kiosk: Driver) -> None:
    scan_card(kiosk, "V0001")
    assert kiosk.app.session.step is Step.IDENTIFIED
    assert kiosk.w.catalog.greeting.text() == "您好，赵**"


def test_the_pin_pad_times_out_and_forgets_the_digits(kiosk: Driver) -> None:
    scan_card(kiosk)
    for digit in "135":
        kiosk.tap(kiosk.w.card_pin.keys[digit])
    assert kiosk.w.card_pin.dots.text() == "●●●"
    kiosk.app.session.timeouts = type(kiosk.app.session.timeouts)(card_pin=0.2)
    kiosk.wait_step(Step.IDLE, timeout=5000)
    kiosk.app.session.timeouts = type(kiosk.app.session.timeouts)()
    scan_card(kiosk)
    assert kiosk.app.session.step is Step.CARD_PIN and kiosk.w.card_pin.dots.text() == " "
    enter(kiosk, "790135")  # "135" was forgotten: this is a wrong PIN, not the right one
    assert kiosk.app.session.step is Step.CARD_PIN and "4" in kiosk.notice


def test_ok_takes_no_pin_shorter_than_six_digits_so_a_second_tap_costs_no_try(kiosk: Driver) -> None:
    scan_card(kiosk)
    pad = kiosk.w.card_pin
    assert not pad.keys["ok"].isEnabled()
    for digit in "24680":
        kiosk.tap(pad.keys[digit])
    assert not pad.keys["ok"].isEnabled()
    with kiosk.qtbot.assertNotEmitted(pad.pin_entered, wait=50):
        pad._press("ok")  # as a tap that reached it anyway
    enter(kiosk, "1")  # the sixth digit, then OK: one wrong try
    assert not pad.keys["ok"].isEnabled()  # the pad is empty again: a second OK sends nothing
    with kiosk.qtbot.assertNotEmitted(pad.pin_entered, wait=50):
        pad._press("ok")
    pin = kiosk.app.parts.store.card_pin(SUN)
    assert pin is not None and pin[1].failures == 1


def test_cancel_leaves_the_pin_pad(kiosk: Driver) -> None:
    scan_card(kiosk)
    kiosk.tap(kiosk.w.card_pin.cancel)
    kiosk.wait_step(Step.IDLE)
    assert kiosk.app.session.card_holder is None
