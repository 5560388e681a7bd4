"""The kiosk's side of systemd's service protocol (``Type=notify``, ``WatchdogSec=``).

``READY=1`` tells systemd the kiosk is up (in-flight dispenses recovered, the idle screen
shown); ``WATCHDOG=1``, sent at half the watchdog interval, tells it the kiosk still
answers. The pings are sent from the GUI thread's event loop (``kiosk/app.py``), so a
GUI thread that hangs stops them and systemd restarts the kiosk. Outside systemd
(``NOTIFY_SOCKET`` unset) every call does nothing. No dependency: one datagram each.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


def notify(message: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Send ``message`` (``READY=1``, ``WATCHDOG=1``, ``STATUS=…``) to systemd; False if not under it."""
    path = environ.get("NOTIFY_SOCKET", "")
    if not path:
        return False
    address = "\0" + path[1:] if path.startswith("@") else path  # an abstract socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message.encode("utf-8"), socket.MSG_DONTWAIT, address)  # never wait on the GUI thread
    except OSError:
        return False  # systemd gone (shutting down): nothing to tell
    return True


def watchdog_interval_s(environ: Mapping[str, str] = os.environ) -> float | None:
    """How often to ping: half of ``WatchdogSec``, or None when systemd watches no pings from us.

    ``WATCHDOG_PID`` names the service's main process: the kiosk, or the kiosk compositor
    that started it (``cage -- kiosk run``, with ``NotifyAccess=all``); another process's
    watchdog is not ours to feed.
    """
    usec = environ.get("WATCHDOG_USEC", "")
    pid = environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid not in (str(os.getpid()), str(os.getppid()))):
        return None
    return int(usec) / 2 / 1_000_000
