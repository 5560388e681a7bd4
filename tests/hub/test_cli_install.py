"""``kiosk-hub`` on a machine with only the kiosk's install: one line naming the extra, nothing created."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from hub import cli


def test_a_command_whose_libraries_are_missing_says_which_extra_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec

    def without_uvicorn(name: str, *args: Any) -> Any:
        return None if name == "uvicorn" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_uvicorn)
    db = tmp_path / "hub.db"
    assert cli.main(["--db", f"sqlite:///{db}", "serve"]) == 2
    err = capsys.readouterr().err
    assert "uvicorn" in err and "'.[hub]'" in err and "Traceback" not in err
    assert not db.exists()
    assert cli.missing_libraries("balance") == []
