"""Logging: journald format when JOURNAL_STREAM matches, plain otherwise; nothing private."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from nurture import logsetup
from nurture.model import Body


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {n: logging.getLogger(n).level for n in ("nurture", "apscheduler")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, lvl in levels.items():
        logging.getLogger(name).setLevel(lvl)


def _file_stream(path: Path) -> io.TextIOWrapper:
    return open(path, "w+", encoding="utf-8")


def test_journal_format_when_journal_stream_matches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> None:
    with _file_stream(tmp_path / "err") as stream:
        info = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{info.st_dev}:{info.st_ino}")
        logsetup.setup(0, stream=stream)
        log = logging.getLogger("nurture.test")
        log.warning("first\nsecond")
        log.info("calm")
        log.debug("hidden at verbosity 0")
        stream.seek(0)
        lines = stream.read().splitlines()
    assert lines == ["<4>first", "<4>second", "<6>calm"]


def test_plain_format_with_timestamps_when_stderr_is_not_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "1:2")  # inherited, but names some other stream
    with _file_stream(tmp_path / "err") as stream:
        logsetup.setup(0, stream=stream)
        logging.getLogger("nurture.test").error("broke")
        stream.seek(0)
        line = stream.read().strip()
    assert not line.startswith("<")
    date, clock, level, message = line.split(" ", 3)
    assert len(date) == 10 and len(clock) == 8
    assert (level, message) == ("ERROR", "broke")


def test_libraries_are_quiet_at_verbosity_0_and_heard_at_2(restore_logging: None) -> None:
    stream = io.StringIO()
    logsetup.setup(0, stream=stream)
    logging.getLogger("apscheduler.scheduler").info("Running job tick")
    logging.getLogger("apscheduler.scheduler").warning("skipped: maximum instances")
    assert stream.getvalue() == ""
    logsetup.setup(2, stream=stream)
    logging.getLogger("apscheduler.scheduler").info("Running job tick")
    assert "Running job tick" in stream.getvalue()


def test_registered_secrets_and_credential_assignments_are_masked(restore_logging: None) -> None:
    stream = io.StringIO()
    logsetup.setup(0, stream=stream)
    logsetup.register_secret("hunter2-very-secret")
    log = logging.getLogger("nurture.test")
    log.warning("login failed for %s with %s", "me@example.org", "hunter2-very-secret")
    log.warning("connect imap://x?password=swordfish&user=me")
    log.warning("header Authorization: Bearer abcdefghijklmnop1234")
    log.warning('token response {"access_token": "ya29.a0AfH6SM", "expires_in": 3599}')
    text = stream.getvalue()
    for secret in ("hunter2-very-secret", "swordfish", "abcdefghijklmnop1234", "ya29.a0AfH6SM"):
        assert secret not in text
    assert "me@example.org" in text and "3599" in text
    assert text.count(logsetup.WITHHELD) >= 4


def test_message_bodies_never_pass_and_long_arguments_are_cut(restore_logging: None) -> None:
    stream = io.StringIO()
    logsetup.setup(2, stream=stream)
    log = logging.getLogger("nurture.test")
    log.debug("body %s", Body(text="Dear Sam, the merger is off."))
    log.debug("raw %r", b"From: a\r\n\r\nsecret plans")
    log.debug("text %s", "x" * 5000)
    text = stream.getvalue()
    assert "merger" not in text and "secret plans" not in text
    assert "x" * (logsetup.MAX_ARG_CHARS + 1) not in text
    assert "chars withheld" in text


def test_secrets_in_tracebacks_are_masked(restore_logging: None) -> None:
    stream = io.StringIO()
    logsetup.setup(0, stream=stream)
    logsetup.register_secret("tr0ub4dor&3")
    try:
        raise RuntimeError("auth with tr0ub4dor&3 failed")
    except RuntimeError:
        logging.getLogger("nurture.test").exception("sync failed")
    assert "tr0ub4dor&3" not in stream.getvalue()
    assert "RuntimeError" in stream.getvalue()


def test_a_long_exception_message_is_cut(restore_logging: None) -> None:
    stream = io.StringIO()
    logsetup.setup(0, stream=stream)
    try:
        raise ValueError("cannot parse: " + "confidential text " * 500)
    except ValueError:
        logging.getLogger("nurture.test").exception("sync failed")
    text = stream.getvalue()
    assert "chars withheld" in text
    assert all(len(line) < logsetup.MAX_LINE_CHARS + 60 for line in text.splitlines())
