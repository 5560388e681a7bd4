"""Moving bytes: a serial port opened by URL, nothing more.

``open_port`` uses pyserial's ``serial_for_url``, so a device path (``/dev/ttyUSB0``,
a pty), ``loop://``, ``socket://host:port`` and ``spy://`` (which logs the traffic)
all work with no change to the layers above. The line is 9600 8N1, no flow control.
"""

from __future__ import annotations

from typing import Any

import serial

BAUDRATE = 9600


class PortError(OSError):
    """The port could not be opened or went away."""


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
        )
    except (serial.SerialException, ValueError) as exc:
        raise PortError(f"cannot open {url}: {exc}") from exc
