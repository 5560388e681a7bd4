"""``/docs`` on a network with no way out: Swagger UI comes from the hub itself.

The hub is served by uvicorn on loopback and its ``/docs`` page opened in Debian's Chromium
(Playwright), with every request that does not go to 127.0.0.1 aborted: the page must
still show the API's operations, and nothing may have tried to leave the machine.
"""

from __future__ import annotations

import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.app import STATIC, create_api
from hub.db import migrate, open_engine
from hub.kek import Kek
from hub.service import Hub
from tests.helpers import OfflinePage, serving

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hub_url(tmp_path: Path) -> Iterator[str]:
    engine = open_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    with serving(create_api(Hub(engine, kek=Kek.generate()))) as url:
        yield url
    engine.dispose()


def test_the_docs_page_shows_the_operations_with_no_internet(hub_url: str, offline_page: OfflinePage) -> None:
    from playwright.sync_api import expect

    page = offline_page.page
    page.goto(f"{hub_url}/docs")
    expect(page.get_by_text("/v1/sync/push", exact=True)).to_be_visible(timeout=20_000)
    expect(page.get_by_text("/v1/sync/pull", exact=True)).to_be_visible()
    assert offline_page.refused == []  # nothing tried to leave the machine


def test_the_browser_fixture_refuses_what_leaves_the_machine(offline_page: OfflinePage) -> None:
    """The check above can fail: a page asking a CDN is refused, and the refusal listed."""
    page = offline_page.page
    page.set_content(
        '<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>'
    )
    assert offline_page.refused == ["https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"]


def test_redoc_is_off_and_the_files_are_served_from_the_package(hub_url: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{hub_url}/redoc", timeout=10)
    assert refused.value.code == 404
    with urllib.request.urlopen(f"{hub_url}/docs", timeout=10) as response:
        html = response.read().decode()
    assert "https://" not in html and "http://" not in html
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        assert f'"/static/swagger-ui/{name}"' in html
        with urllib.request.urlopen(f"{hub_url}/static/swagger-ui/{name}", timeout=10) as response:
            assert response.read() == (STATIC / "swagger-ui" / name).read_bytes()


def test_the_vendored_files_ship_with_their_licence_as_package_data() -> None:
    folder = STATIC / "swagger-ui"
    assert (folder / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["hub"]
    shipped = {p for pattern in patterns for p in (ROOT / "hub").glob(pattern)}
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE"):
        assert folder / name in shipped


def test_a_machine_without_chromium_fails_the_browser_tests_saying_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests import helpers

    monkeypatch.setattr(helpers, "CHROMIUM", tmp_path / "no-chromium")
    with (
        pytest.raises(pytest.fail.Exception, match="apt-get install chromium"),
        helpers.offline_browser_page(),
    ):
        pass
