"""`LOG_FLUSH_INTERVAL`: JSON lines through a buffer, out within the interval, warnings and close at once."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from observability.logs import formatter
from observability.logs.formatter import PacedStreamHandler
from observability.logs.settings import LogsSettings


@pytest.fixture
def written(tmp_path: Path) -> Iterator[tuple[io.TextIOWrapper, Path]]:
    path = tmp_path / "stdout"
    stream = io.TextIOWrapper(io.BufferedWriter(io.FileIO(path, "w"), 1 << 16), encoding="utf-8")
    yield stream, path
    stream.close()


def _logger(handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"paced.{id(handler)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return logger


def test_lines_wait_in_the_buffer_until_a_warning_or_close(written: tuple[io.TextIOWrapper, Path]) -> None:
    """INFO lines stay buffered; a WARNING writes them and itself at once, in order; close writes the rest."""
    stream, path = written
    handler = PacedStreamHandler(stream, interval=60)
    log = _logger(handler)
    log.info("one")
    log.info("two")
    assert path.read_text() == ""
    log.warning("three")
    assert path.read_text() == "one\ntwo\nthree\n"
    log.info("four")
    handler.close()
    assert path.read_text().endswith("three\nfour\n")


def test_a_line_is_out_within_the_interval_with_nothing_else_logged(
    written: tuple[io.TextIOWrapper, Path],
) -> None:
    """With nothing else logged, an INFO line reaches the stream within the interval (the timer)."""
    stream, path = written
    handler = PacedStreamHandler(stream, interval=0.05)
    _logger(handler).info("alone")
    deadline = time.monotonic() + 5
    while path.read_text() != "alone\n" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert path.read_text() == "alone\n"
    handler.close()


def test_configure_logging_paces_json_lines_only_and_closes_the_handler_it_replaces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A positive interval paces JSON lines; text lines (a terminal) and 0 write each line; a replaced
    paced handler is closed, so its lines are out."""
    root = logging.getLogger()
    saved = list(root.handlers)
    closed: list[PacedStreamHandler] = []
    monkeypatch.setattr(PacedStreamHandler, "close", lambda self: closed.append(self))
    try:
        formatter.configure_logging("users", "INFO", "json", 0.2)
        [paced] = root.handlers
        assert isinstance(paced, PacedStreamHandler) and paced.interval == 0.2
        formatter.configure_logging("users", "INFO", "text", 0.2)
        assert type(root.handlers[0]) is logging.StreamHandler and closed == [paced]
        formatter.configure_logging("users", "INFO", "json", 0.0)
        assert type(root.handlers[0]) is logging.StreamHandler
    finally:
        for each in closed:
            each._stopping.set()  # its timer (the real close was replaced above)
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved:
            root.addHandler(handler)


def test_flush_interval_is_bounded_and_off_by_default() -> None:
    """`LOG_FLUSH_INTERVAL` is 0 (each line at once) unless set, and refused below 0 or above 5 s."""
    assert LogsSettings().log_flush_interval == 0
    with pytest.raises(ValidationError):
        LogsSettings(log_flush_interval=-1)
    with pytest.raises(ValidationError):
        LogsSettings(log_flush_interval=60)
