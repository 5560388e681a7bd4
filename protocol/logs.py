"""One logging setup (``logging.config.dictConfig``) for the kiosk and the hub, and what it never writes.

Where the lines go depends on who started the program:

- **under systemd** (``JOURNAL_STREAM`` or ``INVOCATION_ID`` set): everything from INFO up
  to stderr, one line each, without a timestamp (the journal stamps each line), with a
  ``<N>`` syslog priority prefix the journal reads as the line's priority
  (``journalctl -u timebank-kiosk -p warning``);
- **otherwise**: everything from INFO up to a rotating file in the platform's user log
  directory (``platformdirs.user_log_dir``: ``~/.local/state/timebank-kiosk/log/kiosk.log``
  on Linux; ``$TIMEBANK_LOG_DIR`` instead when set), 5 files of 2 MiB, and warnings and
  worse on stderr too.

Uvicorn's loggers (``uvicorn.error``, ``uvicorn.access``) go the same way: the hub passes
:func:`logging_config` to uvicorn, so each of its worker processes is set up alike. An
access line names the client, the method, the path with its query and the status: no
header, so never the ``Authorization`` one.

No secret is ever logged on purpose: a token, a PIN, a private key or a whole code is
never an argument of a log call (a code may appear as its card id's first 8 characters).
:class:`Redact`, on every handler, is the last line of defence: it rewrites anything
shaped like a bearer token, a signed code, a PIN hash or a private key before a line is
written (:func:`redact`).
"""

from __future__ import annotations

import logging
import logging.config
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import platformdirs

from .codes import card_id

LOG_DIR_VARIABLE = "TIMEBANK_LOG_DIR"
"""Where the log files go instead of the user log directory (a deployment's choice, the tests)."""
FILE_BYTES = 2 * 1024 * 1024
FILE_BACKUPS = 4
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_FORMAT = "%(levelname)s %(name)s: %(message)s"
QUIET = ("sqlalchemy", "alembic", "httpx", "httpcore", "urllib3", "asyncio", "multipart")
"""Libraries that are chatty at INFO: only their warnings are kept."""


def under_systemd(environ: Mapping[str, str] = os.environ) -> bool:
    """Started by systemd, whose journal keeps what the program writes to stderr."""
    return bool(environ.get("JOURNAL_STREAM") or environ.get("INVOCATION_ID"))


def log_file(app: str, name: str, environ: Mapping[str, str] = os.environ) -> Path:
    """The log file of ``name`` (``kiosk``, ``hub``) for the application ``app``."""
    folder = environ.get(LOG_DIR_VARIABLE) or platformdirs.user_log_dir(app, appauthor=False)
    return Path(folder) / f"{name}.log"


# --- the last line of defence ---------------------------------------------------------

_URLSAFE = "A-Za-z0-9_-"
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
    re.S,
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?!\[redacted\])[^\s,;\"'}\]]+")
_TOKEN_FIELD = re.compile(rf"(?i)\b(token[\"']?\s*[=:]\s*[\"']?)[.{_URLSAFE}]{{16,}}")
_CODE = re.compile(rf"\beyJ[{_URLSAFE}]*\.[{_URLSAFE}]+\.[{_URLSAFE}]+")
"""A signed code (JWS compact: its header is base64url JSON, so it starts ``eyJ``)."""
_PIN_HASH = re.compile(r"\bscrypt\$[0-9a-fA-F]*\$[0-9a-fA-F]*")
_LONG = re.compile(rf"(?<![{_URLSAFE}])[{_URLSAFE}]{{32,}}(?![{_URLSAFE}])")
_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def _code(match: re.Match[str]) -> str:
    jti = card_id(match.group(0))
    return f"[code {jti[:8]}]" if jti else "[code]"


def _token(match: re.Match[str]) -> str:
    """A long URL-safe string with both cases is a token (``secrets.token_urlsafe``); an
    event's UUID, a hex digest or a snake_case name is not."""
    text = match.group(0)
    if _UUID.fullmatch(text) or text.lower() == text or text.upper() == text:
        return text
    return "[token]"


def redact(text: str) -> str:
    """``text`` with every private key, bearer token, signed code, PIN hash and token-shaped
    string (32 or more URL-safe characters in both cases, not a UUID) rewritten."""
    text = _PRIVATE_KEY.sub("[private key]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    text = _TOKEN_FIELD.sub(r"\1[redacted]", text)
    text = _CODE.sub(_code, text)
    text = _PIN_HASH.sub("scrypt$[redacted]", text)
    return _LONG.sub(_token, text)


class Redact(logging.Filter):
    """Rewrites a record's message, exception and stack with :func:`redact` before any handler
    writes it (its arguments are merged into the message first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the message: the handler reports it
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JournalFormatter(logging.Formatter):
    """A line as the journal wants it: ``<priority>`` first, no timestamp."""

    PRIORITIES: ClassVar[dict[int, int]] = {
        logging.DEBUG: 7,
        logging.INFO: 6,
        logging.WARNING: 4,
        logging.ERROR: 3,
        logging.CRITICAL: 2,
    }

    def format(self, record: logging.LogRecord) -> str:
        priority = self.PRIORITIES.get(record.levelno, 6)
        return "\n".join(f"<{priority}>{line}" for line in super().format(record).splitlines())


# --- the configuration --------------------------------------------------------------------


def logging_config(
    app: str, name: str, *, level: str = "INFO", environ: Mapping[str, str] = os.environ
) -> dict[str, Any]:
    """The ``dictConfig`` of program ``name`` of application ``app`` (see the module's doc)."""
    redacting = {"redact": {"()": f"{__name__}.Redact"}}
    if under_systemd(environ):
        handlers: dict[str, Any] = {
            "journal": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "journal",
                "filters": ["redact"],
            }
        }
    else:
        handlers = {
            "file": {
                "class": "logging.handlers.RotatingFileHandler",
                "filename": str(log_file(app, name, environ)),
                "maxBytes": FILE_BYTES,
                "backupCount": FILE_BACKUPS,
                "encoding": "utf-8",
                "delay": True,
                "formatter": "file",
                "filters": ["redact"],
            },
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "level": "WARNING",
                "formatter": "file",
                "filters": ["redact"],
            },
        }
    uvicorn = {"level": level, "handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": redacting,
        "formatters": {
            "file": {"format": FORMAT},
            "journal": {"()": f"{__name__}.JournalFormatter", "format": JOURNAL_FORMAT},
        },
        "handlers": handlers,
        "loggers": {
            "uvicorn": uvicorn,
            "uvicorn.error": uvicorn,
            "uvicorn.access": uvicorn,
            **{quiet: {"level": "WARNING"} for quiet in QUIET},
        },
        "root": {"level": level, "handlers": list(handlers)},
    }


def setup_logging(
    app: str, name: str, *, level: str = "INFO", environ: Mapping[str, str] = os.environ
) -> Path | None:
    """Set up logging for the whole process; the log file's path, or None under systemd."""
    config = logging_config(app, name, level=level, environ=environ)
    path = None
    if "file" in config["handlers"]:
        path = Path(config["handlers"]["file"]["filename"])
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    logging.config.dictConfig(config)
    logging.captureWarnings(True)
    return path
