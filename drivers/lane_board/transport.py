"""Moving bytes: a serial port opened by URL, held by one program at a time, nothing more.

``open_port`` uses pyserial's ``serial_for_url``, so a device path (``/dev/ttyUSB0``,
a pty), ``loop://``, ``socket://host:port`` and ``spy://`` (which logs the traffic)
all work with no change to the layers above. The line is 9600 8N1, no flow control.

A device is opened exclusively (pyserial's ``exclusive=True``: an ``flock`` on POSIX,
and Windows never shares a COM port): the board remembers only the last request it
executed, and the kiosk proves what became of a dispense by that memory, so a second
program that opens the port is refused (:class:`PortBusy`) instead of talking over the
kiosk. The lock is advisory on POSIX: it keeps out every program that asks for it (the
kiosk, ``kiosk hw``, pyserial tools with ``exclusive``), not a terminal program that
does not. ``loop://`` and ``socket://`` ports have no lock to take.
"""

from __future__ import annotations

import errno
from typing import Any

import serial

BAUDRATE = 9600


class PortError(OSError):
    """The port could not be opened or went away."""


class PortBusy(PortError):
    """Another program holds the port (a running kiosk, or ``kiosk hw``)."""


_LOCKED = {errno.EAGAIN, errno.EWOULDBLOCK}
"""What ``flock(LOCK_EX | LOCK_NB)`` fails with when another program holds the lock."""


def open_port(url: str, *, baudrate: int = BAUDRATE, timeout: float = 0.05) -> Any:
    try:
        return serial.serial_for_url(
            url,
            baudrate=baudrate,
            bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_NONE,
            stopbits=serial.STOPBITS_ONE,
            timeout=timeout,
            write_timeout=1.0,
            xonxoff=False,
            rtscts=False,
            exclusive=True,
        )
    except (serial.SerialException, ValueError) as exc:
        if "exclusively lock" in str(exc) or getattr(exc, "errno", None) in _LOCKED:
            raise PortBusy(
                f"{url} is in use by another program (a running kiosk, or kiosk hw): "
                "only one may talk to the lane board at a time"
            ) from exc
        raise PortError(f"cannot open {url}: {exc}") from exc
