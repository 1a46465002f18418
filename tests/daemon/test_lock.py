"""One daemon per state folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nurture.lock import AlreadyRunning, InstanceLock, holder, poke

HOLD = """
import sys, time
from pathlib import Path
from nurture.lock import InstanceLock
lock = InstanceLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_second_lock_names_the_holder_and_release_frees_it(tmp_path: Path) -> None:
    first = InstanceLock(tmp_path / "state").acquire()
    assert holder(tmp_path / "state") == os.getpid()
    # flock is per open file description: a second open in this process conflicts too
    with pytest.raises(AlreadyRunning) as info:
        InstanceLock(tmp_path / "state").acquire()
    assert info.value.pid == os.getpid()
    assert "already running" in str(info.value)
    first.release()
    assert holder(tmp_path / "state") is None
    with InstanceLock(tmp_path / "state") as again:
        assert again.held


def test_the_lock_dies_with_its_process_even_on_kill_9(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(AlreadyRunning) as info:
            InstanceLock(tmp_path).acquire()
        assert info.value.pid == proc.pid
    finally:
        proc.kill()
        proc.wait()
    with InstanceLock(tmp_path) as lock:
        assert lock.held


def test_lock_file_is_private(tmp_path: Path) -> None:
    with InstanceLock(tmp_path / "s") as lock:
        assert lock.path.stat().st_mode & 0o077 == 0


POKED = """
import signal, sys, time
from pathlib import Path
from nurture.lock import InstanceLock
signal.signal(signal.SIGHUP, lambda *_: (print("reload", flush=True), sys.exit(0)))
lock = InstanceLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_poke_sends_sighup_to_the_running_daemon(tmp_path: Path) -> None:
    assert poke(tmp_path) is None  # nobody runs: nothing to do
    proc = subprocess.Popen(
        [sys.executable, "-c", POKED, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        assert poke(tmp_path) == proc.pid
        assert proc.stdout.readline().strip() == "reload"
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
