"""Structured logs: JSON lines on stderr (or console lines with log_json=false), for our own
events and uvicorn's alike. Log calls pass ids and counts only — never bodies or tokens."""

from __future__ import annotations

import logging
import os
import sys
import traceback

import structlog

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR}
# Libraries whose DEBUG records hold payloads: aiosqlite logs every statement with its
# parameters (message bodies), and the websockets protocol uvicorn runs under "uvicorn.error"
# logs handshake headers (Authorization, Cookie) and frames; botocore (the S3 file store,
# aiobotocore under it) logs each request's parameters, signed headers and body (file
# contents). They stay at INFO or above even with log_level=debug, so logs never hold
# passwords, tokens, keys or bodies.
PAYLOAD_LOGGERS = ("aiosqlite", "uvicorn.error", "botocore", "aiobotocore")


class WithoutQuery(logging.Filter):
    """uvicorn's access lines give the path without its query string, which can hold a file's
    name (POST /api/v1/files?name=…), a search's words (q=…) or an upload's client key."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


class ClientFaultsAreNotErrors(logging.Filter):
    """uvicorn's websockets-sansio protocol logs a client's text frame that is not UTF-8 at
    ERROR, with a traceback, before closing with 1007 as RFC 6455 §8.1 asks: any client could
    fill the error log (and page whoever watches it) at will. It is the client's fault, so it
    becomes one INFO line without the traceback (issue 16, case 8: Autobahn's 6.* cases send
    hundreds)."""

    MESSAGES = ("Invalid UTF-8 sequence received from client.",)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.msg in self.MESSAGES:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info = record.exc_text = None
        return True


def quiet_client_faults() -> None:
    """Install ClientFaultsAreNotErrors (once) on uvicorn's protocol logger."""
    protocol = logging.getLogger("uvicorn.error")
    protocol.filters[:] = [f for f in protocol.filters if not isinstance(f, ClientFaultsAreNotErrors)]
    protocol.addFilter(ClientFaultsAreNotErrors())


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
    access = logging.getLogger("uvicorn.access")
    access.filters[:] = [f for f in access.filters if not isinstance(f, WithoutQuery)]
    access.addFilter(WithoutQuery())
    quiet_client_faults()
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(max(LEVELS[level], logging.INFO))


def failure(exc: BaseException, frames: int = 3) -> dict[str, str]:
    """Log fields for an unexpected exception: its type and where it was raised, never its
    message or arguments, which may quote the values involved (an email, a title, a message
    body: UnicodeEncodeError and driver errors do). `at` lists the last `frames` frames in
    this package (file, line, function) and the frame that raised, e.g. inside a driver.
    Use as log.error("x.failed", **failure(exc))."""
    stack = traceback.extract_tb(exc.__traceback__)
    ours = [frame for frame in stack if _PACKAGE_DIR in frame.filename][-frames:]
    if stack and (not ours or ours[-1] is not stack[-1]):
        ours.append(stack[-1])
    return {"error": type(exc).__name__,
            "at": " <- ".join(f"{_short(frame.filename)}:{frame.lineno} {frame.name}"
                              for frame in reversed(ours))}


def _short(filename: str) -> str:
    """chat/rooms/committer.py for our files; the file's name for a library's."""
    if _PACKAGE_DIR in filename:
        return os.path.relpath(filename, os.path.dirname(_PACKAGE_DIR))
    return os.path.basename(filename)
