"""Logs: one JSON object a line on stdout, at the configured level, whoever set a logger's own level."""

from __future__ import annotations

import json
import logging

import pytest

from cx_kit.logs import configure_logging

pytestmark = pytest.mark.unit


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("cx.broker").setLevel(logging.NOTSET)


def test_lines_below_the_configured_level_are_dropped_even_from_a_logger_set_lower(capsys, restore_logging) -> None:
    configure_logging("cx-test", "WARNING")
    broker_logger = logging.getLogger("cx.broker")
    broker_logger.setLevel(logging.INFO)  # what FastStream does to the logger it is given
    broker_logger.info("received a message")
    broker_logger.warning("a record was dead-lettered")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["level"], line["message"], line["service"]) for line in lines] == [
        ("WARNING", "a record was dead-lettered", "cx-test")
    ]


def test_info_lines_are_written_when_info_is_configured(capsys, restore_logging) -> None:
    configure_logging("cx-test", "INFO")
    logging.getLogger("cx.broker").info("received a message")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["level"], line["logger"]) for line in lines] == [("INFO", "cx.broker")]
