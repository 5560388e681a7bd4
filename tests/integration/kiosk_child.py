"""A kiosk process for the crash tests: bootstrap against a lane board, maybe buy, report.

    python -m tests.integration.kiosk_child DIR PORT [vend]

Bootstrap settles whatever a previous run left in flight; with ``vend`` it then buys a
pack of tissues for V0001. It prints one JSON line: the ledger kinds of V0001 and the
dispenses in doubt. ``KIOSK_CRASH_AT`` may kill it on the way (see kiosk.failpoints).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from kiosk.bootstrap import bootstrap
from kiosk.config import MachineKind, demo_config
from kiosk.demo import load_or_create_key, seed


def main() -> None:
    data, port = Path(sys.argv[1]), sys.argv[2]
    key = load_or_create_key(data / "key.pem")
    config = dataclasses.replace(demo_config(data), machine=MachineKind.LANE_BOARD, port=port)
    parts = bootstrap(config, seed=lambda repo: seed(repo, key))
    try:
        if sys.argv[3:] == ["vend"]:
            item = next(i for i in parts.store.items() if i.name_en == "Tissues")
            report = parts.service.vend("V0001", item, "visit")
            print(f"vend: {report.status}", file=sys.stderr)
        kinds = sorted(e.kind.value for e in parts.store.entries("V0001"))
        print(json.dumps({"kinds": kinds, "in_doubt": len(parts.store.in_doubt())}))
    finally:
        parts.close()


if __name__ == "__main__":
    main()
