"""Throwaway real servers for tests: Dovecot (IMAP) and Radicale (CalDAV).

Each module offers a context manager that starts a server on a free loopback
port in a temporary folder and stops it afterwards, plus a pytest fixture
built on it. The daemon and end-to-end tests import these too.
"""

from __future__ import annotations

import os
import socket
import time

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    """Block until something accepts connections on `port`; raise after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"nothing listens on 127.0.0.1:{port} after {timeout}s"
                ) from None
            time.sleep(0.05)


def skip_or_fail(reason: str) -> None:
    """Skip a test that needs a missing server, except on CI where it must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: real-server tests must run)")
    pytest.skip(reason)
