"""Structured logging: one JSON object per line on stderr."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
    )
    handler.set_name("beat")
    root = logging.getLogger()
    # Replace only our own handler, so a host (a test runner, say) keeps its own.
    root.handlers[:] = [h for h in root.handlers if h.get_name() != "beat"] + [handler]
    root.setLevel(level.upper())
    # aiohttp's own access log repeats ours; tortoise's debug chatter is noise at INFO.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("tortoise").setLevel(logging.WARNING)
