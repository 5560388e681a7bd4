"""``kiosk code verify``: the contract a technician and the vectors rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data" / "volunteer-code-vectors.json"
VECTORS = json.loads(DATA.read_text())


def run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "code", "verify", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def files(tmp_path: Path) -> list[str]:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(VECTORS["jwks"]))
    revoked = tmp_path / "revoked.json"
    revoked.write_text(json.dumps(VECTORS["revoked_jti"]))
    return [
        "--jwks",
        str(jwks),
        "--issuer",
        VECTORS["issuer"],
        "--revoked",
        str(revoked),
        "--now",
        str(VECTORS["now"]),
    ]


def expected() -> list[dict[str, object]]:
    return [
        {"ok": True, "kind": c["kind"], "sub": c["sub"]} if c["ok"] else {"ok": False, "reason": c["error"]}
        for c in VECTORS["cases"]
    ]


def test_the_vectors_through_the_command_line(tmp_path: Path) -> None:
    codes = [c["code"] for c in VECTORS["cases"]]
    codes = [c if c else "''" for c in codes]  # an empty argument stays an argument
    out = run([*files(tmp_path), *[c["code"] for c in VECTORS["cases"] if c["code"]]])
    assert out.returncode == 0, out.stderr
    got = [json.loads(line) for line in out.stdout.splitlines()]
    want = [e for e, c in zip(expected(), VECTORS["cases"], strict=True) if c["code"]]
    assert got == want


def test_codes_from_stdin(tmp_path: Path) -> None:
    stdin = "\n".join(c["code"] for c in VECTORS["cases"][:3]) + "\n"
    out = run([*files(tmp_path), "-"], stdin=stdin)
    assert out.returncode == 0
    assert [json.loads(line) for line in out.stdout.splitlines()] == expected()[:3]


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    assert run(["--issuer", "x", "code"]).returncode == 2  # no --jwks
    missing = run(["--jwks", str(tmp_path / "nope.json"), "--issuer", "x", "code"])
    assert missing.returncode == 2 and "cannot read trust list" in missing.stderr
    (tmp_path / "bad.json").write_text("[1, 2")
    assert run(["--jwks", str(tmp_path / "bad.json"), "--issuer", "x", "c"]).returncode == 2
    assert run([*files(tmp_path)[:-2], "--now", "soon", "c"]).returncode == 2


def test_a_blank_line_on_stdin_is_answered_too(tmp_path: Path) -> None:
    first, second = (c["code"] for c in VECTORS["cases"][:2])
    out = run([*files(tmp_path), "-"], stdin=f"{first}\n\n{second}\n")
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 3 and lines[1] == {"ok": False, "reason": "malformed"}
