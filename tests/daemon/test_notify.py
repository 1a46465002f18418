"""sd_notify: datagrams to $NOTIFY_SOCKET, abstract sockets, watchdog interval."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from nurture.notify import Notifier

from .conftest import NotifyListener, wait_for


def test_ready_status_watchdog_stopping_arrive_as_assignments(listener: NotifyListener) -> None:
    notifier = Notifier(str(listener.path))
    assert notifier.ready("started\nwith two lines")
    assert notifier.status("last sync 12:00")
    assert notifier.watchdog()
    assert notifier.stopping()
    wait_for(lambda: len(listener.messages) == 4, what="four datagrams")
    assert listener.messages[0] == "READY=1\nSTATUS=started with two lines"
    assert listener.assignments()[2:] == ["STATUS=last sync 12:00", "WATCHDOG=1", "STOPPING=1"]
    notifier.close()


def test_abstract_socket_address_with_leading_at() -> None:
    name = f"nurture-test-{os.getpid()}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(b"\0" + name.encode())
    server.settimeout(5)
    try:
        assert Notifier(f"@{name}").ready()
        assert server.recv(100) == b"READY=1"
    finally:
        server.close()


def test_without_notify_socket_everything_is_a_quiet_no_op() -> None:
    env: dict[str, str] = {}
    notifier = Notifier.from_environment(env)
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.watchdog_interval is None


def test_from_environment_reads_watchdog_and_unsets_the_variables(tmp_path: Path) -> None:
    env = {
        "NOTIFY_SOCKET": str(tmp_path / "s"),
        "WATCHDOG_USEC": "180000000",
        "WATCHDOG_PID": str(os.getpid()),
        "OTHER": "kept",
    }
    notifier = Notifier.from_environment(env)
    assert notifier.enabled
    assert notifier.watchdog_interval == 90.0
    assert env == {"OTHER": "kept"}


def test_watchdog_meant_for_another_process_is_ignored(tmp_path: Path) -> None:
    env = {"NOTIFY_SOCKET": str(tmp_path / "s"), "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"}
    assert Notifier.from_environment(env).watchdog_interval is None


def test_a_vanished_socket_does_not_raise(tmp_path: Path) -> None:
    notifier = Notifier(str(tmp_path / "nobody-listens"))
    assert notifier.ready() is False
    assert notifier.watchdog() is False
