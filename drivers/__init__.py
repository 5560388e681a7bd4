"""Hardware drivers for the kiosk's vending machine, independent of the kiosk.

This package never imports ``kiosk``. ``machine`` defines the interface the kiosk
dispenses through (:class:`~drivers.machine.VendingMachine`); each device sits behind
it: the simulated cabinet of demo mode and tests (``simulated``), and the serial lane
board that follows ``docs/lane-board-protocol.md``.
"""
