"""A pytest fixture: nurture's own log handler at the highest verbosity (-vv), captured.

For tests that check what reaches the log when everything is logged; the
handler and every logger level it set are restored afterwards.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from nurture import logsetup


@pytest.fixture
def verbose_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    names = ("nurture", *logsetup._QUIET_LIBRARIES, *logsetup._PAYLOAD_TRACES)
    levels = {n: logging.getLogger(n).level for n in names}
    stream = io.StringIO()
    logsetup.setup(2, stream=stream)
    yield stream
    root.handlers[:] = saved[1]
    root.setLevel(saved[0])
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
