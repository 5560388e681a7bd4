"""The serial code scanner: split lines, noise, over-long lines, unplug and replug."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.scanner import LineAssembler, SerialScanner, wait_for

CODE = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJWMDAwMSJ9.c2lnbmF0dXJl"


@given(st.lists(st.integers(0, len(CODE) + 2), max_size=6), st.sampled_from([b"\r", b"\n", b"\r\n"]))
def test_partial_reads_are_reassembled(cuts: list[int], end: bytes) -> None:
    stream = CODE.encode() + end + CODE.encode() + end
    assembler = LineAssembler()
    got: list[str] = []
    last = 0
    for cut in [*sorted(cuts), len(stream)]:
        got += assembler.feed(stream[last:cut])
        last = cut
    assert got == [CODE, CODE]


def test_noise_and_over_long_lines_are_refused() -> None:
    assembler = LineAssembler(max_line=100)
    got = assembler.feed(b"\x00\xff\x13garbage\x07\r\n" + b"x" * 500 + b"\r\n" + CODE.encode() + b"\n")
    assert got == [CODE]
    assert assembler.refused == 2


class FakeScannerDevice:
    """A scanner behind socket://: it can be unplugged (connection closed) and replugged."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.url = f"socket://127.0.0.1:{self.server.getsockname()[1]}"
        self.conn: socket.socket | None = None
        self.accepted = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        try:
            self.conn, _ = self.server.accept()
            self.accepted.set()
        except OSError:
            pass

    def send(self, data: bytes) -> None:
        assert self.accepted.wait(5)
        assert self.conn is not None
        self.conn.sendall(data)

    def unplug(self) -> None:
        assert self.conn is not None
        self.conn.close()
        self.conn = None
        self.accepted.clear()
        self._thread.join()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.server.close()
        self._thread.join(timeout=2)


@pytest.fixture
def device() -> Iterator[FakeScannerDevice]:
    d = FakeScannerDevice()
    yield d
    d.close()


def test_codes_split_across_reads_and_a_replug(device: FakeScannerDevice) -> None:
    codes: list[str] = []
    states: list[str] = []
    scanner = SerialScanner(device.url, codes.append, on_state=states.append, reconnect_s=0.1)
    try:
        # opening a port clears its input buffer: a real scanner is read from then on
        assert wait_for(lambda: states == ["connected"], 5)
        device.send(CODE[:10].encode())
        device.send(CODE[10:].encode() + b"\r")
        assert wait_for(lambda: codes == [CODE], 5)
        device.unplug()
        assert wait_for(lambda: "disconnected" in states, 5)
        assert wait_for(lambda: states[-1] == "connected", 5), "the scanner never came back"
        device.send(b"\x00noise\x01\r\n" + b"SECOND-CODE-123\n")
        assert wait_for(lambda: codes == [CODE, "SECOND-CODE-123"], 5)
    finally:
        scanner.close()


def test_a_missing_port_keeps_trying_without_blocking(tmp_path: object) -> None:
    states: list[str] = []
    scanner = SerialScanner("/dev/no-such-scanner", lambda _: None, on_state=states.append, reconnect_s=0.05)
    try:
        assert wait_for(lambda: states == ["disconnected"], 2)
    finally:
        scanner.close()
