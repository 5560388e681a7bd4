"""The hub's 422: FastAPI's list of what is wrong and where, always as JSON.

FastAPI's own answer echoes each bad value back (``input``); a value JSON cannot carry
(``Infinity``, or ``1e400`` read as one) or text that is not Unicode (a lone surrogate
from a ``\\ud800`` escape) made that answer a 500. Here such a value is echoed as its
``repr`` instead, so every malformed request is a 422 that names its field.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return repr(value)
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


async def unprocessable(request: Request, exc: Exception) -> JSONResponse:
    """``exc`` (a :class:`RequestValidationError`) as a 422 whose ``detail`` is plain JSON."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": _plain(jsonable_encoder(exc.errors()))})
