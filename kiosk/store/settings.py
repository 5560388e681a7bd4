"""Small named values the kiosk keeps: the sync cursors, the last good sync and why the last one
failed, the board's SN."""

from __future__ import annotations

import sqlite3

SYNC_CURSOR = "sync_cursor"
TRUST_SYNCED_AT = "trust_synced_at"
LAST_GOOD_SYNC = "last_good_sync"
LANE_BOARD_SN = "lane_board_sn"
CARD_PINS_CURSOR = "card_pins_cursor"
"""The cursor of the last pull page whose card PINs were stored (none yet: ask from 0)."""
HONOUR_BOARD = "honour_board"
"""The honour roll of the kiosk's community and street, as the hub last sent it (JSON)."""
HONOUR_STAMP = "honour_stamp"
"""The stamp of that board: a pull that names it gets no board until it changes."""
LAST_SYNC_PROBLEM = "last_sync_problem"
"""Why the last sync failed (``SyncProblem.to_json``); empty after a good one."""


class SettingsRepository:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def cursor(self) -> int:
        return int(self.get(SYNC_CURSOR) or 0)
