"""STATUS round trip over a pty with the simulated board pacing bytes at 9600 baud.

Sends STATUS through the real client (framer, codec, reader thread) to the board
simulator on a pseudo-terminal whose replies are paced at the real line speed, and
prints the median and p99 beside the wire time of the 16 bytes (8 out, 8 back: 16.7 ms
at 9600 8N1). Target: ≤ 1.5× wire time.

    python bench/status_round_trip.py [--n 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.lane_board.client import LaneBoardClient
from drivers.lane_board.simulator import BYTE_S, BoardModel, LaneState, PtyBoard


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    model = BoardModel({1: LaneState(1)})
    model.faults.paced = True
    board = PtyBoard(model)
    # the host paces its own 8 bytes too: the same line speed in both directions
    client = LaneBoardClient.open(board.port)
    times = []
    try:
        for i in range(args.n + 20):
            t0 = time.perf_counter()
            time.sleep(8 * BYTE_S)  # the request's 8 bytes on the wire (a pty has no baud rate)
            client.status_reply()
            if i >= 20:
                times.append((time.perf_counter() - t0) * 1000)
    finally:
        client.close()
        board.close()
    wire = 16 * BYTE_S * 1000
    ordered = sorted(times)
    med, p99 = statistics.median(times), ordered[int(0.99 * (len(ordered) - 1))]
    print(f"round trips timed     {len(times)}")
    print(f"wire time of 16 bytes {wire:6.2f} ms")
    print(
        f"STATUS round trip     median {med:6.2f} ms ({med / wire:.2f}×)"
        f"   p99 {p99:6.2f} ms ({p99 / wire:.2f}×)"
    )
    print(f"target ≤ 1.5× wire    {'met' if p99 <= 1.5 * wire else 'NOT met (p99)'}")


if __name__ == "__main__":
    main()
