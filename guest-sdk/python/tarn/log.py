"""Logging through the host's `log` import: lines are captured per invocation with its request
id (`tarn logs`). Outside a component they go to stderr.

    tarn.log.info("created %s", todo_id)      # printf-style arguments, as `logging`
    logging.getLogger(__name__).warning(...)   # the standard `logging` too, once
    tarn.log.install()                         # routes the root logger to the host
"""

from __future__ import annotations

import logging
from typing import Any

from .host import write_log

__all__ = ["trace", "debug", "info", "warn", "warning", "error", "HostHandler", "install"]


def _write(level: str, message: str, args: tuple[Any, ...]) -> None:
    write_log(level, message % args if args else message)


def trace(message: str, *args: Any) -> None:
    """Logs at trace level."""
    _write("trace", message, args)


def debug(message: str, *args: Any) -> None:
    """Logs at debug level."""
    _write("debug", message, args)


def info(message: str, *args: Any) -> None:
    """Logs at info level."""
    _write("info", message, args)


def warn(message: str, *args: Any) -> None:
    """Logs at warn level."""
    _write("warn", message, args)


warning = warn


def error(message: str, *args: Any) -> None:
    """Logs at error level."""
    _write("error", message, args)


class HostHandler(logging.Handler):
    """A `logging` handler writing through the host's `log` import."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            level = "error"
        elif record.levelno >= logging.WARNING:
            level = "warn"
        elif record.levelno >= logging.INFO:
            level = "info"
        elif record.levelno >= logging.DEBUG:
            level = "debug"
        else:
            level = "trace"
        try:
            write_log(level, self.format(record))
        except Exception:
            self.handleError(record)


def install(level: int = logging.INFO) -> None:
    """Sends the standard `logging` module's records (root logger, `level` and up) to the host."""
    root = logging.getLogger()
    if not any(isinstance(h, HostHandler) for h in root.handlers):
        root.addHandler(HostHandler())
    root.setLevel(level)
