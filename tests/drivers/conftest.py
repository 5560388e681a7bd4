from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.lane_board.client import LaneBoardClient
from drivers.lane_board.simulator import BoardModel, LaneState, PtyBoard


@pytest.fixture
def board() -> Iterator[BoardModel]:
    yield BoardModel({n: LaneState(3) for n in range(1, 9)}, turn_s=0.25)


@pytest.fixture
def pty(board: BoardModel) -> Iterator[PtyBoard]:
    served = PtyBoard(board)
    yield served
    served.close()


@pytest.fixture
def client(pty: PtyBoard) -> Iterator[LaneBoardClient]:
    c = LaneBoardClient.open(pty.port)
    yield c
    c.close()


@pytest.fixture
def hw_client(request: pytest.FixtureRequest) -> Iterator[LaneBoardClient]:
    """A client on the real board given with ``--port`` (hardware tests only)."""
    c = LaneBoardClient.open(request.config.getoption("--port"))
    yield c
    c.close()
