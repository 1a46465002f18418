"""A small sd_notify client: readiness, status and watchdog pings for systemd.

The protocol is one datagram of ``KEY=VALUE`` lines to the AF_UNIX socket named
in ``$NOTIFY_SOCKET``; a leading ``@`` names a socket in the abstract
namespace. We speak it ourselves because ``systemd-python`` from PyPI does not
build everywhere and the protocol is a dozen lines.

Outside systemd (no ``$NOTIFY_SOCKET``) every call is a cheap no-op, so the
daemon never needs to know how it was started.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import MutableMapping

log = logging.getLogger(__name__)

_ENV_KEYS = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


def _socket_address(value: str) -> str | bytes:
    """The address to connect to: abstract sockets start with a NUL byte."""
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    return value


class Notifier:
    """Sends state changes to the service manager, if there is one.

    Thread-safe; never raises: a lost notification must not take the daemon
    down (systemd notices a missing READY or WATCHDOG on its own).
    """

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        self._address = address
        self._watchdog_usec = watchdog_usec
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._warned = False

    @classmethod
    def from_environment(
        cls, environ: MutableMapping[str, str] | None = None, *, unset: bool = True
    ) -> Notifier:
        """Read ``$NOTIFY_SOCKET`` and ``$WATCHDOG_USEC`` (like sd_notify's `unset_environment`).

        With `unset` the variables are removed, so that child processes
        (password commands, browsers for OAuth) do not inherit our socket.
        """
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or None
        watchdog: int | None = None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            watchdog = int(usec)
        if unset:
            for key in _ENV_KEYS:
                env.pop(key, None)
        return cls(address, watchdog)

    @property
    def enabled(self) -> bool:
        """Whether a service manager listens."""
        return self._address is not None

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between WATCHDOG=1 pings (half the manager's timeout), or None when off."""
        if self._watchdog_usec is None:
            return None
        return self._watchdog_usec / 2_000_000

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=VALUE`` assignments in one datagram; True when it was delivered."""
        if self._address is None or not assignments:
            return False
        payload = "\n".join(assignments).encode()
        with self._lock:
            try:
                if self._sock is None:
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                    sock.connect(_socket_address(self._address))
                    self._sock = sock
                self._sock.sendall(payload)
                return True
            except OSError as error:
                self._drop_socket()
                if not self._warned:
                    self._warned = True
                    log.warning("cannot reach the service manager at NOTIFY_SOCKET: %s", error)
                return False

    def ready(self, status: str = "") -> bool:
        """Tell the manager start-up is complete (``Type=notify``)."""
        return self.send("READY=1", *((f"STATUS={_one_line(status)}",) if status else ()))

    def status(self, text: str) -> bool:
        """Set the one-line status `systemctl status` shows."""
        return self.send(f"STATUS={_one_line(text)}")

    def watchdog(self) -> bool:
        """Ping the watchdog: the daemon is alive and making progress."""
        return self.send("WATCHDOG=1")

    def reloading(self) -> bool:
        return self.send("RELOADING=1")

    def stopping(self, status: str = "") -> bool:
        return self.send("STOPPING=1", *((f"STATUS={_one_line(status)}",) if status else ()))

    def close(self) -> None:
        with self._lock:
            self._drop_socket()

    def _drop_socket(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _one_line(text: str) -> str:
    """A status must be one line: newlines would start new assignments."""
    return " ".join(text.split())
