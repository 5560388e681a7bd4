"""``kiosk hw``: a technician's lane-board diagnostics, under the kiosk's rules for the board.

The board remembers one request, the last it executed, and that memory is how the kiosk
proves, after a restart, what became of a dispense it never heard the end of
(``drivers/lane_board/client.py``). So a wiring check must not change it behind the
kiosk's back:

- ``ping`` sends CHECK only, which the board answers without remembering anything: a
  read-only wiring check, safe on any board, with ``--port`` alone.
- ``status`` and ``vend`` make the board execute a request. They run on the kiosk's own
  store (``--config``): the port is held exclusively, as the kiosk holds it; they are
  refused while the store has a dispense in flight (the kiosk settles it when it next
  starts, before anything else talks to the board); every SN comes from the kiosk's
  durable counter; a test vend moves the lane's stock and goes in the audit log, as one
  from the technician screen does.
- With ``--port`` alone they are refused, unless ``--unsafe-no-store`` says that no kiosk
  uses this board (a bench, a new cabinet). On a live kiosk's board that is unsafe: the
  board forgets the kiosk's last dispense, which then waits in doubt for a technician,
  and a test vend's stock is written to no store. To keep it from being worse, such a
  host first finds the SN the board remembers (CHECKs only) and counts on from it, so it
  does not send again the SN the kiosk sent just before its dispense (which would make
  that dispense look never received) — except on a board that has lost power and
  remembers nothing, where no SN is known to be safe.

Refusing, rather than settling the dispense in flight here, keeps one place that moves
益币 after a crash: the kiosk's start-up recovery, whose in-doubt results wait on its
technician screen.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from drivers.lane_board.client import LaneBoardClient, NoReply, memory_sn
from drivers.lane_board.transport import PortError
from drivers.machine import DispenseResult, Flag, Outcome

from .bootstrap import open_store
from .config import MachineKind, load
from .services.store import Store
from .store.settings import LANE_BOARD_SN


class HwError(Exception):
    """A refusal or a bad argument: one line for the technician (the command exits 2)."""


ACTOR = "kiosk hw"
"""Who the audit log says ran a test vend from the command line."""

NEEDS_STORE = (
    "status and vend change what the board remembers of the kiosk's last dispense: "
    "give --config with the kiosk's configuration, or use ping (read-only); "
    "--unsafe-no-store only on a board no kiosk uses"
)
EXIT = {Outcome.DISPENSED: 0, Outcome.NOT_DISPENSED: 1, Outcome.UNKNOWN: 3}


def _open(url: str, store: Store | None) -> LaneBoardClient:
    try:
        return LaneBoardClient.open(url, None if store is None else store.next_sn)
    except PortError as exc:
        raise HwError(str(exc)) from exc


def _refuse_in_flight(store: Store) -> None:
    """Called with the port held, so no dispense can start after the look."""
    held = store.in_flight()
    if held:
        raise HwError(
            f"a dispense on lane {held[0].lane} (SN {held[0].sn}) is still in flight: start the kiosk "
            "once so it settles it, then run kiosk hw"
        )


def run(ns: argparse.Namespace) -> int:
    if ns.config is None:
        if ns.action != "ping" and not ns.unsafe_no_store:
            raise HwError(NEEDS_STORE)
        client = _open(ns.port, None)
        try:
            if ns.action != "ping":  # count on from the board's memory, never from 1
                with contextlib.suppress(NoReply, PortError):  # silent: the action says so
                    client.next_sn = memory_sn(after=client.remembered_sn())
            return _act(client, ns, None, 1)
        finally:
            client.close()
    if ns.unsafe_no_store:
        raise HwError("--unsafe-no-store goes with --port; with --config the kiosk's store is used")
    config = load(Path(ns.config))
    if config.machine is not MachineKind.LANE_BOARD or config.port is None:
        raise HwError(f'{ns.config}: [machine] kind is not "lane_board": there is no board to check')
    engine, store = open_store(config)
    try:
        client = _open(config.port, store)
        try:
            if ns.action != "ping":
                _refuse_in_flight(store)
            last = store.setting(LANE_BOARD_SN)
            return _act(client, ns, store, int(last) if last else 1)
        finally:
            client.close()
    finally:
        engine.dispose()


def _act(client: LaneBoardClient, ns: argparse.Namespace, store: Store | None, ping_sn: int) -> int:
    if ns.action == "ping":
        try:
            client.ping(ping_sn)
        except (NoReply, PortError) as exc:
            print(json.dumps({"alive": False, "error": str(exc)}))
            return 3
        print(json.dumps({"alive": True, "error": None}))
        return 0
    if ns.action == "status":
        status = client.status()
        print(
            json.dumps(
                {
                    "alive": status.alive,
                    "service_door_open": status.service_door_open,
                    "pickup_flap_open": status.pickup_flap_open,
                    "temperature_c": status.temperature_c,
                    "restarted": status.restarted,
                    "error": None if status.alive else status.last_error,
                }
            )
        )
        return 0 if status.alive else 3
    result = _test_vend(client, ns.lane)
    if store is not None:
        store.record_test_vend(ACTOR, ns.lane, result)
    flags = [f.value for f in result.flags]
    print(json.dumps({"outcome": result.outcome.value, "flags": flags, "sn": result.sn}))
    return EXIT[result.outcome]


def _test_vend(client: LaneBoardClient, lane: int) -> DispenseResult:
    """STATUS first (board alive, doors closed; the datasheet's rule before every DISPENSE)."""
    try:
        reply = client.status_reply()
    except (NoReply, PortError) as exc:
        print(f"kiosk: the board does not answer: {exc}", file=sys.stderr)
        return DispenseResult(Outcome.UNKNOWN, lane, (Flag.NO_REPLY,))
    if reply.service_door_open:
        return DispenseResult(Outcome.NOT_DISPENSED, lane, (Flag.DOOR_OPEN,))
    return client.dispense(lane)
