"""Structured JSON logging to stdout, and an access log that cannot leak who asked.

Rule C3: no client address and no user agent is ever logged. uvicorn's own access log
prints the peer address, so it is switched off; ``AccessLogMiddleware`` in
``app.middleware`` logs method, route template, status and duration only.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.config
import sys
from typing import Any

# Attributes every LogRecord has; anything else passed via ``extra=`` becomes a field.
# uvicorn adds "color_message", a copy of the message with terminal escapes.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str = "info") -> dict[str, Any]:
    """Route the root, uvicorn and app loggers to JSON on stdout; return the dictConfig."""
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": sys.stdout}
        },
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level.upper(), "propagate": True},
            # Never enabled: its lines carry the client address and port.
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }
    logging.config.dictConfig(config)
    return config
