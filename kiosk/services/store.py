"""The kiosk's use cases over its store, in one object the composition root hands out.

``Store`` gathers the redemption use cases, the technicians' and the sync's records;
each method is one unit of work from ``units`` (SQLite in the kiosk, in memory in the
service tests) and returns frozen core values.
"""

from __future__ import annotations

from .operations import Operations
from .records import Records
from .redemptions import Redemptions, Refused

__all__ = ["Refused", "Store"]


class Store(Redemptions, Operations, Records):
    pass
