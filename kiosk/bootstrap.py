"""The composition root: one function wires the store, the machine and the services.

``bootstrap`` reads a :class:`~kiosk.config.Config` and builds the real parts (the
SQLite file, brought up to date by migrations; the machine the config names). Tests
pass their own machine or clock into the same function. The GUI is assembled on top
of these parts by :func:`kiosk.app.create_app`; nothing else constructs them, but
``kiosk hw`` takes the store alone (:func:`open_store`): it must not start a kiosk.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from drivers.lane_board.client import LaneBoardClient
from drivers.machine import VendingMachine
from drivers.simulated import SimulatedMachine

from .config import Config, MachineKind
from .services.kiosk import KioskService
from .services.store import Store
from .store.db import migrate, open_engine
from .store.uow import SqlUnitsOfWork


@dataclass
class Parts:
    config: Config
    engine: Engine
    store: Store
    machine: VendingMachine
    service: KioskService
    simulator: SimulatedMachine | None

    def close(self) -> None:
        self.service.flush()
        self.machine.close()
        self.engine.dispose()


def open_store(config: Config, clock: Callable[[], float] = time.time) -> tuple[Engine, Store]:
    """The configured SQLite file, brought up to date, and the use cases over it."""
    engine = open_engine(config.db_path)
    migrate(engine)
    return engine, Store(SqlUnitsOfWork(engine), clock=clock)


def bootstrap(
    config: Config,
    *,
    machine: VendingMachine | None = None,
    clock: Callable[[], float] = time.time,
    seed: Callable[[Store], object] | None = None,
) -> Parts:
    engine, store = open_store(config, clock)
    if seed is not None:
        seed(store)
    simulator = None
    if machine is None:
        if config.machine is MachineKind.SIMULATED:
            simulator = SimulatedMachine(
                {lane.number: lane.stock for lane in store.lanes()}, turn_s=config.sim_turn_s
            )
            machine = simulator
        else:
            assert config.port is not None
            machine = LaneBoardClient.open(config.port, next_sn=store.next_sn)
    elif isinstance(machine, SimulatedMachine):
        simulator = machine
    service = KioskService(
        store,
        machine,
        list(config.issuers),
        config.limits,
        offline_policy=config.offline if config.hub_url else None,
    )
    service.recover()  # a dispense the last run left in flight, before any new volunteer
    return Parts(config, engine, store, machine, service, simulator)
