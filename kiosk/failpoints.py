"""Named points where a crash test may kill the kiosk (``KIOSK_CRASH_AT=<name>``).

The crash tests start the kiosk in a child process with this variable set, let it die
with SIGKILL at the named step of a redemption, restart it and check the ledger, the
board's motor count and the list of dispenses in doubt. Unset, a failpoint does nothing.
"""

from __future__ import annotations

import os
import signal

_AT = os.environ.get("KIOSK_CRASH_AT")


def reached(name: str) -> None:
    if name == _AT:
        os.kill(os.getpid(), signal.SIGKILL)
