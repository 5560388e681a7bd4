"""The hub's OpenAPI is the truth about its replies: schemathesis over a real server.

A bounded run (``HUB_FUZZ_EXAMPLES`` cases per operation, 40 unless set) against
``kiosk-hub``'s API served by uvicorn on loopback, on SQLite and on PostgreSQL (the
``db_url`` fixture), with valid inputs and invalid ones, each operation with the token of
the client it serves (a kiosk's for sync, the app's for codes and balances; the other
role's and none are fuzzed too). Every reply must be one the schema documents, with its
status code, content type and body shape, and none a server error.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from hub.app import create_api
from hub.service import Hub
from tests.helpers import serving

EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "40"))


def rejects_invalid_data(ctx: Any, response: Any, case: Case) -> bool | None:
    """Invalid input is refused; a body over the hub's cap (more events than a push may hold,
    say) is refused by the guard with 413 before anything reads it, which is a refusal too."""
    if response.status_code == 413:
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    rejects_invalid_data,
]


@dataclass
class Served:
    base: str
    kiosk_token: str
    app_token: str


@pytest.fixture
def served_hub(hub: Hub) -> Iterator[Served]:
    kiosk = hub.add_kiosk("fuzz-kiosk")
    app = hub.add_kiosk("fuzz-app", role="app")
    hub.import_hours(
        "record_id,volunteer_id,name,hours,activity,certified_on\n"
        "R1,V0001,赵一,2.5,助老,2026-11-01\n".encode()
    )
    with serving(create_api(hub)) as base:
        yield Served(base, kiosk["token"], app["token"])


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_every_reply_is_documented_and_no_input_is_a_server_error(
    served_hub: Served, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(served_hub.base + "/openapi.json")
    # the token is the test's to give (below); unknown query parameters are ignored, as HTTP allows
    schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5, "the hub's API lost operations"

    @settings(
        max_examples=EXAMPLES * len(operations),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(case=schema.as_strategy(mode))
    def each(case: Case) -> None:
        token = served_hub.app_token if _for_app(case) else served_hub.kiosk_token
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    each()


def _for_app(case: Case) -> bool:
    return case.path.startswith(("/v1/codes", "/v1/volunteers"))
