"""Idle cost of `nurture run`: CPU seconds per hour, wake-ups per minute, memory.

Starts a real daemon (default intervals: mail every 5 min, reconcile every
15 min, tick every minute) on a local Maildir that already holds some mail,
waits until the first cycle is done (READY, then the first sync and reconcile
reported through a fake NOTIFY_SOCKET), then measures a window in which no
new mail arrives:

- cpu_seconds_per_hour: user+system CPU of the process over the window, scaled;
- wakeups_per_minute: moments the process woke from idle (any thread's voluntary
  context switches rose, sampled twice a second, after at least 2 s of quiet);
- context_switches_per_minute: voluntary context switches summed over all
  threads (the scheduler and the worker waking together count two);
- rss_mb / peak_rss_mb: resident memory at the end, and its high-water mark
  (which includes the NLP model when a candidate message made it load).

Run alone: ``python bench/idle.py [seconds]``. `run()` is what bench/run.py calls;
the window defaults to 180 s (``$NURTURE_BENCH_IDLE_SECONDS`` overrides), rounded
to whole minutes and started just after a minute turns, when the daemon's timers fire.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

USER = "alex@brightpath.example"
TARGETS = {"wakeups_per_minute": 1.0, "rss_mb": 300.0}


def _world(root: Path, messages: int) -> Path:
    """A config, a Maildir with `messages` asks (so the NLP loads), a vdir; returns config."""
    mail, sent = root / "mail", root / "mail" / ".Sent"
    for folder in (mail, sent):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True)
    (root / "calendar").mkdir()
    (root / "rules").mkdir()
    (root / "rules" / "work.toml").write_text('[work]\ntimezone = "UTC"\n')
    now = datetime.now(UTC)
    for n in range(messages):
        msg = EmailMessage()
        msg["From"] = f"Person {n} <p{n}@client{n % 7}.example>"
        msg["To"] = f"Alex Morgan <{USER}>"
        msg["Subject"] = f"Question {n}"
        msg["Date"] = format_datetime(now - timedelta(days=2 + n % 20, hours=n))
        msg["Message-ID"] = f"<idle{n}@bench.example>"
        msg.set_content(f"Hi Alex,\n\nCould you send me the numbers for item {n}?\n\nThanks")
        (mail / "cur" / f"{n}.M{n}P1.bench:2,S").write_bytes(bytes(msg))
    config = root / "config.toml"
    config.write_text(
        f'[user]\nname = "Alex Morgan"\naddresses = ["{USER}"]\n'
        f'[paths]\nstate = "state"\n'
        f'[accounts.mail]\nconnector = "local"\nmaildir = "mail"\n'
        f'[accounts.cal]\nconnector = "local"\ncalendar = "calendar"\n'
    )
    return config


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _switches(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total


def _memory_mb(pid: int) -> tuple[float, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def _nurture() -> list[str]:
    script = Path(sys.executable).parent / "nurture"
    if os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-c", "from nurture.cli import main; main()"]


def run(seconds: float | None = None, messages: int = 40) -> dict[str, Any]:
    """Measure an idle daemon for `seconds` after its first cycle; the figures as a dict."""
    window = float(seconds or os.environ.get("NURTURE_BENCH_IDLE_SECONDS") or 180)
    window = max(60.0, round(window / 60) * 60)
    with tempfile.TemporaryDirectory(prefix="nurture-idle-") as tmp:
        root = Path(tmp)
        config = _world(root, messages)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(str(root / "notify"))
        notify.settimeout(300)
        env = {
            **os.environ,
            "NOTIFY_SOCKET": str(root / "notify"),
            "WATCHDOG_USEC": str(180_000_000),  # as in the unit: WatchdogSec=3min
            "XDG_STATE_HOME": str(root / "xdg-state"),
            "XDG_CACHE_HOME": str(root / "xdg-cache"),
        }
        env.pop("JOURNAL_STREAM", None)
        started = time.monotonic()
        proc = subprocess.Popen(
            [*_nurture(), "--config", str(config), "run"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        try:
            # READY carries one STATUS; the first sync and the first reconcile send one each.
            statuses = 0
            while statuses < 3:
                statuses += notify.recv(4096).decode().count("STATUS=")
            first_cycle = time.monotonic() - started
            time.sleep(2)  # let the last status update's job finish
            # The daemon's timers fall on whole minutes: a window of whole minutes that
            # starts just after one counts each minute's wake-up exactly once.
            time.sleep(60 - time.time() % 60 + 5)
            cpu0, sw0, t0 = _cpu_seconds(proc.pid), _switches(proc.pid), time.monotonic()
            # Sampled twice a second; a wake-up is activity after at least 2 s of quiet
            # (a sync that waits for the disk switches many times, but woke once).
            instants, last, last_active = 0, sw0, -1e9
            while time.monotonic() - t0 < window:
                time.sleep(0.5)
                now_switches, now = _switches(proc.pid), time.monotonic()
                if now_switches > last:
                    instants += now - last_active > 2.0
                    last_active = now
                last = now_switches
            cpu1, sw1, t1 = _cpu_seconds(proc.pid), _switches(proc.pid), time.monotonic()
            rss, peak = _memory_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
            notify.close()
    elapsed = t1 - t0
    return {
        "window_seconds": round(elapsed, 1),
        "first_cycle_seconds": round(first_cycle, 1),
        "messages": messages,
        "cpu_seconds_per_hour": round((cpu1 - cpu0) / elapsed * 3600, 2),
        "wakeups_per_minute": round(instants / elapsed * 60, 2),
        "context_switches_per_minute": round((sw1 - sw0) / elapsed * 60, 2),
        "rss_mb": round(rss, 1),
        "peak_rss_mb": round(peak, 1),
        "exit_status": code,
        "targets": TARGETS,
    }


if __name__ == "__main__":
    print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else None), indent=2))
