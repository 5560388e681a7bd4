"""A scripted demo visit, rendered offscreen to PNG files.

Used by ``kiosk demo`` on a machine without a display and by the screenshot tests: it
drives the real screens through the same signals a touch would send, saves each
screen, and returns the paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from PySide6.QtWidgets import QWidget

from .app import KioskApp, wait_until
from .core.session import Step
from .demo import DEMO_CARD_PIN, DEMO_PANEL, DEMO_PIN
from .ui.screens import PinPadScreen

LANDSCAPE = (1280, 800)
PORTRAIT = (1080, 1920)


def save(widget: QWidget, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not widget.grab().save(str(path)):
        raise OSError(f"cannot write {path}")
    return path


def _step(app: KioskApp, step: Step, timeout_s: float = 15.0) -> None:
    if not wait_until(lambda: app.session.step is step and app.background.idle, timeout_s):
        raise RuntimeError(f"the demo did not reach {step} (at {app.session.step})")


def _type(pad: PinPadScreen, digits: str, ok: bool = True) -> None:
    for digit in digits:
        pad.keys[digit].click()
    if ok:
        pad.keys["ok"].click()


def walkthrough(app: KioskApp, out: Path, size: tuple[int, int] = LANDSCAPE) -> Iterator[Path]:
    w = app.window
    sim = app.simulator_window
    assert sim is not None, "the walkthrough needs demo mode's simulator"
    w.resize(*size)
    w.show()
    app.wait_idle()
    yield save(w, out / "01-idle.png")
    wait_until(lambda: app.session.honour is not None, 10)
    w.idle.next_turn()  # the community's honour roll, in turn with the items
    yield save(w, out / "01b-honour-roll.png")
    w.idle.next_turn()
    sim.scan(DEMO_PANEL[0])
    _step(app, Step.IDENTIFIED)
    yield save(w, out / "02-catalog.png")
    tiles = w.catalog.grid.tiles
    by_name = {tile.offer.item.name_en: item_id for item_id, tile in tiles.items()}
    for name in ("Tissues", "Bottled water"):
        w.catalog.picked.emit(by_name[name])
    w.catalog.picked.emit(by_name["Instant noodles"])  # sold out: shows the refusal
    yield save(w, out / "03-choosing.png")
    w.resize(*PORTRAIT)
    yield save(w, out / "03-choosing-portrait.png")
    w.resize(*size)
    w.catalog.reviewed.emit()
    yield save(w, out / "04-confirm.png")
    w.confirm.confirmed.emit()
    wait_until(lambda: any(bar.value() > 30 for bar in w.dispensing.bars), 10)
    yield save(w, out / "05-dispensing.png")
    _step(app, Step.RESULT, 30)
    yield save(w, out / "06-result.png")
    w.result.done.emit()
    _step(app, Step.IDLE)
    sim.scan(DEMO_PANEL[3])  # an expired code
    wait_until(lambda: app.session.notice is not None and app.background.idle, 10)
    yield save(w, out / "07-refusal-expired.png")
    sim.scan(DEMO_PANEL[2])  # the printed card, which has a PIN
    _step(app, Step.CARD_PIN)
    _type(w.card_pin, "000000")  # a wrong PIN: the kind sentence, the pad stays
    wait_until(lambda: app.session.notice is not None and app.background.idle, 10)
    _type(w.card_pin, DEMO_CARD_PIN[:3], ok=False)
    yield save(w, out / "07b-card-pin.png")
    w.card_pin.keys["clear"].click()
    _type(w.card_pin, DEMO_CARD_PIN)  # the right one starts the ladder of lockouts again
    _step(app, Step.IDENTIFIED)
    w.catalog.cancelled.emit()
    _step(app, Step.IDLE)
    sim.scan(DEMO_PANEL[5])  # the technician's code
    _step(app, Step.TECH_PIN)
    _type(w.tech_pin, DEMO_PIN)
    _step(app, Step.TECH)
    wait_until(lambda: w.tech.lanes.rowCount() > 0, 10)
    yield save(w, out / "08-tech-lanes.png")
    w.tech.tabs.setCurrentWidget(w.tech.recent)
    wait_until(lambda: w.tech.recent.rowCount() > 0, 10)
    yield save(w, out / "08b-tech-recent.png")
    w.tech.exited.emit()
    _step(app, Step.IDLE)
    sim.show()
    sim.resize(sim.sizeHint())
    yield save(sim, out / "09-simulator.png")
