"""JSON logs on stdout, one object a line, so a log shipper needs no parsing rules."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


def configure_logging(service: str, level: str = "INFO", json: bool = True) -> None:
    """Route the root logger (and uvicorn's, FastStream's, aiokafka's) to stdout in JSON."""
    handler = logging.StreamHandler(sys.stdout)
    # The handler filters too: FastStream sets its logger's level to the one it logs messages at (INFO),
    # and a record that propagates from there is not checked against the root logger's level again.
    handler.setLevel(level)
    if json:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                static_fields={"service": service},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "faststream", "aiokafka"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # aiokafka is chatty at INFO about every group join; its warnings are what matter.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, logging.getLevelName(level)))
