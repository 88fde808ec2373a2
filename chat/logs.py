"""Structured logs: JSON lines on stderr (or console lines with log_json=false), for our own
events and uvicorn's alike. Log calls pass ids and counts only — never bodies or tokens."""

from __future__ import annotations

import logging
import sys
import traceback

import structlog

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR}
# Libraries whose DEBUG records hold payloads: aiosqlite logs every statement with its
# parameters (message bodies), and the websockets protocol uvicorn runs under "uvicorn.error"
# logs handshake headers (Authorization, Cookie) and frames. They stay at INFO or above even
# with log_level=debug, so logs never hold passwords, tokens or bodies.
PAYLOAD_LOGGERS = ("aiosqlite", "uvicorn.error")


def configure(level: str = "info", json_lines: bool = True) -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(LEVELS[level])
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(max(LEVELS[level], logging.INFO))


def failure(exc: BaseException, frames: int = 4) -> dict[str, str]:
    """Log fields for an unexpected exception: its type and where it was raised (the last
    `frames` of its traceback: file, line, function and that line of code), never its message
    or arguments, which may quote the values involved (an email, a title, a message body:
    UnicodeEncodeError and driver errors do). Use as log.error("x.failed", **failure(exc))."""
    return {"error": type(exc).__name__,
            "at": "".join(traceback.format_tb(exc.__traceback__, limit=-frames)).rstrip()}
