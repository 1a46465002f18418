"""Logging for the CLI and the daemon: quiet, journald-friendly, and never leaky.

- Under systemd, stderr goes to the journal, which stamps time itself and reads
  a ``<N>`` syslog priority prefix on every line. We switch to that format when
  ``$JOURNAL_STREAM`` names the device and inode of our stderr (the documented
  test: a redirected stderr inherits the variable but not the stream).
- Everywhere else: plain lines with a timestamp and the level.
- INFO is quiet: nurture logs one line per cycle that changed something;
  libraries (APScheduler announces every job run at INFO) only from WARNING.
- `PrivacyFilter` sits on the handler, so it sees every record from every
  logger: it masks registered secret values and credential-looking
  assignments, withholds message bodies, and truncates long arguments (a body
  that slipped into an exception text is still cut short). Library protocol
  traces that echo message content stay off even at ``-vv``.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from typing import Any, TextIO

# syslog priorities (sd-daemon.h): what journald reads from a "<N>" prefix.
_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}

# Libraries that are chatty at INFO; at verbosity 0 they are heard from at WARNING
# or (APScheduler, whose warnings our listeners report better) ERROR.
_QUIET_LIBRARIES = {
    "apscheduler": logging.ERROR,
    "urllib3": logging.WARNING,
    "httpx": logging.WARNING,
    "googleapiclient": logging.WARNING,
    "exchangelib": logging.WARNING,
    "caldav": logging.WARNING,
    "imapclient": logging.WARNING,
    "msal": logging.WARNING,
    "watchfiles": logging.WARNING,
}

# Protocol traces that carry message content: never let through, at any verbosity.
# At -vv imaplib's echo of every FETCH response wrote 2,100 lines of mail text in
# one sync. (exchangelib's SOAP trace passes: its XML arguments are cut to 300
# characters, which end before a message's text; tests/exchange checks it.)
_PAYLOAD_TRACES = ("imapclient.imaplib",)

MAX_ARG_CHARS = 300
WITHHELD = "<withheld>"

_secrets: set[str] = set()
_secrets_lock = threading.Lock()

# key=value, key: value, "key": "value" for credential-ish keys; and bearer tokens.
_ASSIGNMENT = re.compile(
    r"""(?ix)
    (?P<key>["']?\b[\w.-]*(?:password|passwd|secret|token|api[_-]?key|apikey|credential|authorization|auth(?=["']?\s*[:=]))
        [\w.-]*["']?\s*[:=]\s*)
    (?P<value>"[^"]*"|'[^']*'|[^\s,;&}]+)
    """
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")


def register_secret(value: str) -> None:
    """Mask `value` wherever it would appear in a log line from now on.

    The secrets layer calls this for every secret it resolves, so that even an
    exception message that quotes a password shows ``<withheld>`` instead.
    """
    if value and len(value) >= 4:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """`text` with registered secrets, credential assignments and bearer tokens masked."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, WITHHELD)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {WITHHELD}", text)
    return _ASSIGNMENT.sub(lambda m: m.group("key") + WITHHELD, text)


def _is_body(value: object) -> bool:
    # Imported lazily: logsetup must work before (and without) the model.
    from .model import Body

    return isinstance(value, Body | bytes | bytearray | memoryview)


def _safe_arg(value: object) -> object:
    if _is_body(value):
        return "<message body withheld>"
    if isinstance(value, int | float | bool) or value is None:
        return value
    text = redact(str(value))
    if len(text) > MAX_ARG_CHARS:
        text = f"{text[:MAX_ARG_CHARS]}… <{len(text) - MAX_ARG_CHARS} chars withheld>"
    return text


class PrivacyFilter(logging.Filter):
    """Rewrites every record so that no body or secret reaches any handler.

    The message is rendered once with its arguments made safe, then redacted as
    a whole; exception texts are redacted when the handler formats them
    (see `_Formatter.format`).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_nurture_safe", False):
            return True
        args: Any = record.args
        try:
            if isinstance(args, dict):
                message = str(record.msg) % {k: _safe_arg(v) for k, v in args.items()}
            elif args:
                message = str(record.msg) % tuple(_safe_arg(a) for a in args)
            else:
                message = str(record.msg)
        except (TypeError, ValueError):
            message = f"{record.msg!s} {tuple(_safe_arg(a) for a in args or ())}"
        record.msg = redact(message)
        record.args = None
        record._nurture_safe = True  # type: ignore[attr-defined]
        return True


class _Formatter(logging.Formatter):
    """Formats a record; every line of it under systemd carries the priority prefix."""

    def __init__(self, *, journal: bool) -> None:
        if journal:
            super().__init__("%(message)s")
        else:
            super().__init__("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
        self._journal = journal

    def format(self, record: logging.LogRecord) -> str:
        # Redacted as a whole: another handler may have cached the traceback text
        # (record.exc_text) before ours, unredacted.
        text = redact(super().format(record))
        # A traceback's last line quotes the exception message, which can quote
        # whatever a parser choked on: no line is let through at full length.
        text = "\n".join(_cap(line) for line in text.splitlines())
        if not self._journal:
            return text
        prefix = f"<{_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in text.splitlines() or [""])


MAX_LINE_CHARS = 1000


def _cap(line: str) -> str:
    if len(line) <= MAX_LINE_CHARS:
        return line
    return f"{line[:MAX_LINE_CHARS]}… <{len(line) - MAX_LINE_CHARS} chars withheld>"


def _priority(levelno: int) -> int:
    for level in sorted(_PRIORITY, reverse=True):
        if levelno >= level:
            return _PRIORITY[level]
    return 7


def stream_is_journal(stream: TextIO, environ: dict[str, str] | None = None) -> bool:
    """Whether `stream` is the journal stream systemd connected (``$JOURNAL_STREAM``)."""
    value = (os.environ if environ is None else environ).get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return info.st_dev == int(device) and info.st_ino == int(inode)


_HANDLER_NAME = "nurture"


def setup(verbosity: int = 0, *, stream: TextIO | None = None) -> logging.Handler:
    """Install nurture's one handler on the root logger; safe to call again.

    verbosity 0: nurture at INFO, libraries at WARNING; 1: nurture at DEBUG;
    2 and more: everything at DEBUG.
    """
    stream = sys.stderr if stream is None else stream
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(_Formatter(journal=stream_is_journal(stream)))
    handler.addFilter(PrivacyFilter())
    root.addHandler(handler)

    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    logging.getLogger("nurture").setLevel(logging.DEBUG if verbosity >= 1 else logging.INFO)
    for name, level in _QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(logging.NOTSET if verbosity >= 2 else level)
    for name in _PAYLOAD_TRACES:
        logging.getLogger(name).setLevel(logging.INFO)
    logging.captureWarnings(True)
    return handler
