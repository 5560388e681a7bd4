"""Small named values the kiosk keeps: the sync cursor, the last good sync, the board's SN."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .models import SettingRow

SYNC_CURSOR = "sync_cursor"
TRUST_SYNCED_AT = "trust_synced_at"
LAST_GOOD_SYNC = "last_good_sync"
LANE_BOARD_SN = "lane_board_sn"


class SettingsRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, key: str) -> str | None:
        row = self.s.get(SettingRow, key)
        return None if row is None else row.value

    def set(self, key: str, value: str) -> None:
        row = self.s.get(SettingRow, key)
        if row is None:
            self.s.add(SettingRow(key=key, value=value))
        else:
            row.value = value

    def cursor(self) -> int:
        return int(self.get(SYNC_CURSOR) or 0)
