"""The balance invariant under random interleavings (hypothesis).

The kiosk shows: the hub's balance as of its cursor, less this kiosk's charges (plus its
reversals) the hub does not reflect at that cursor (unpushed, or applied after it).
Random sequences of redemptions and refunds at this kiosk, pushes, pulls, new certified
hours and another kiosk's spending must keep the shown balance exactly that, never counting a charge twice or
not at all, and equal to the hub's balance once everything is pushed and pulled.
"""

from __future__ import annotations

import dataclasses
import itertools
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hub import sync
from hub.db import migrate, open_engine
from hub.models import LedgerEntry
from hub.service import Hub
from kiosk.bootstrap import bootstrap
from kiosk.config import demo_config
from kiosk.store.models import OutboxRow
from kiosk.sync import Syncer
from protocol.sync import RedemptionEvent
from tests.helpers import InProcessHub

OPS = st.lists(
    st.sampled_from(["redeem", "refund", "push", "pull", "credit", "other_spend", "sync"]), max_size=18
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_the_shown_balance_is_exact_as_of_the_cursor(ops: list[str]) -> None:
    counter = itertools.count()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        engine = open_engine(f"sqlite:///{root / 'hub.db'}")
        migrate(engine)
        hub = Hub(engine)
        hub.import_hours(b"record_id,volunteer_id,name,hours,activity,certified_on\nR0,V1,A,6,x,2026-11-01\n")
        kiosk_id = hub.add_kiosk("k")["kiosk_id"]

        def stock(repo):  # type: ignore[no-untyped-def]
            item = repo.add_item("t", "抽纸", "Tissues", 15)
            repo.add_lane("t", 1, item.id, 99, 99)

        config = dataclasses.replace(demo_config(root / "kiosk", turn_s=0.0), issuers=("timebank-hub",))
        parts = bootstrap(config, seed=stock)
        syncer = Syncer(parts.store, InProcessHub(hub, kiosk_id), batch=2, page=1)  # small: many pages
        item = parts.store.items()[0]
        from kiosk.core.rules import Limits

        parts.service.limits = Limits(per_visit_items=99, per_item_per_day=99)
        try:
            syncer.pull()
            for op in ops:
                if op == "redeem" and parts.store.volunteer("V1") is not None:
                    parts.service.vend("V1", item, "visit")
                elif op == "refund":  # a technician gives back the latest item still charged
                    given = [r for r in parts.store.recent_redemptions() if r.state == "dispensed"]
                    if given:
                        parts.service.refund("T1", given[0].vend_id)
                elif op == "push":
                    syncer.push()
                elif op == "pull":
                    syncer.pull()
                elif op == "sync":
                    assert syncer.run_once().ok
                elif op == "credit":
                    n = next(counter)
                    hub.import_hours(
                        f"record_id,volunteer_id,name,hours,activity,certified_on\nC{n},V1,A,2,x,2026-11-02\n".encode()
                    )
                elif op == "other_spend":
                    other = {
                        "id": f"00000000-0000-4000-8000-{next(counter):012d}",
                        "kind": "redemption",
                        "volunteer_id": "V1",
                        "amount": 20,
                        "at": 1_790_000_000,
                    }
                    sync.push(hub, "other-kiosk", [RedemptionEvent.model_validate(other)])
                check(parts, hub)
            assert syncer.run_once().ok
            view = parts.store.balance("V1").available
            assert view == hub.balance("V1")["balance"]  # exact once everything is reflected
        finally:
            parts.close()
            engine.dispose()


def check(parts: Any, hub: Hub) -> None:
    repo = parts.store
    cursor = repo.sync_cursor()
    with hub.unit() as s:
        as_of_cursor = s.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0))
            .where(LedgerEntry.volunteer_id == "V1")
            .where(LedgerEntry.seq <= cursor)
        )
    with repo.units.reading() as uow:
        outbox = list(uow.session.scalars(select(OutboxRow).where(OutboxRow.volunteer_id == "V1")))
    sign = {"redemption": -1, "reversal": 1}
    unreflected = sum(
        sign[r.kind] * r.amount
        for r in outbox
        if r.kind in sign and (r.acked_seq is None or r.acked_seq > cursor)
    )
    if repo.volunteer("V1") is None:
        return
    assert repo.balance("V1").available == int(as_of_cursor or 0) + unreflected
