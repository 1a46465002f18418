"""Hostile inputs (issue 16): the time and peak memory of each, against its bound.

    python bench/hostile.py                      every case, a table
    python bench/hostile.py --json               the same as JSON
    python bench/hostile.py --case ics_100k      one case (repeatable)
    python bench/hostile.py --code DIR           measure another tree (DIR/nurture, DIR/connectors),
                                                 e.g. an export of main, for before/after figures
    python bench/hostile.py --small              smaller inputs, for a quick look

Each case runs in its own process, so its peak RSS (VmHWM, read from /proc while
it runs) is its own, under a time limit and an address-space cap: the inputs
that used to run away (an endless recurrence, a FIFO rule file) end as "killed
at N s" instead of taking the machine. Inputs are generated once per run in a
temporary folder and shared by every version measured. The tests check that
each input is handled right; this checks that it is handled in bounded time and
memory, which tests must not time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
SINCE = datetime(2000, 1, 1, tzinfo=UTC)
ADDRESS_SPACE = 6 * 1024**3


@dataclass(frozen=True)
class Sizes:
    head_mb: tuple[int, ...] = (20, 40)
    attachments: tuple[int, int] = (40, 23)  # messages, MB each
    mbox_mb: int = 730
    maildir_messages: int = 100_000
    ics_events: int = 100_000
    timezone_mb: int = 9


SMALL = Sizes(
    head_mb=(20,),
    attachments=(10, 23),
    mbox_mb=100,
    maildir_messages=20_000,
    ics_events=20_000,
    timezone_mb=2,
)

# Bounds: (seconds, peak MB) each case must stay within, at the full sizes.
BOUNDS: dict[str, tuple[float, float]] = {
    "recurrence_secondly": (5, 250),
    "recurrence_minutely_2000": (5, 250),
    "vtimezone": (5, 250),
    "ics_100k_first": (20, 400),
    "ics_100k_again": (2, 400),
    "maildir_head": (2, 200),
    "attachments": (10, 250),
    "mbox_first": (60, 300),
    "mbox_append_one": (3, 200),
    "maildir_bodies_in_batches": (4, 600),
    "rules_hostile": (5, 200),
}


# -- inputs -------------------------------------------------------------------


def _vevent(uid: str, start: str, rule: str = "", extra: str = "") -> str:
    line = f"RRULE:{rule}\r\n" if rule else ""
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART{start}\r\n"
        f"DURATION:PT30M\r\n{line}{extra}SUMMARY:{uid}\r\nEND:VEVENT\r\n"
    )


def _calendar(body: str) -> bytes:
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n{body}END:VCALENDAR\r\n".encode()
    )


def _timezone(megabytes: int) -> str:
    parts, size, n = [], 0, 0
    while size < megabytes * 1024 * 1024:
        part = (
            f"BEGIN:{'DAYLIGHT' if n % 2 else 'STANDARD'}\r\nDTSTART:{1601 + n % 8000:04d}"
            f"{n % 12 + 1:02d}01T020000\r\nTZOFFSETFROM:+0{1 + n % 2}00\r\n"
            f"TZOFFSETTO:+0{2 - n % 2}00\r\nTZNAME:Z{n}\r\n"
            f"END:{'DAYLIGHT' if n % 2 else 'STANDARD'}\r\n"
        )
        parts.append(part)
        size += len(part)
        n += 1
    return "BEGIN:VTIMEZONE\r\nTZID:Bench/Bloated\r\n" + "".join(parts) + "END:VTIMEZONE\r\n"


def _ask(mid: str, attachment: bytes = b"") -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"] = "Dana Lee <dana@client.example>", "alex@brightpath.example"
    msg["Subject"], msg["Message-ID"] = "Renewal pricing", f"<{mid}>"
    msg["Date"] = "Mon, 26 Oct 2026 09:30:00 +0000"
    msg.set_content("Hi Alex,\n\nCould you send me the renewal pricing?\n\nDana\n")
    if attachment:
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="q.pdf")
    return bytes(msg)


def _maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def prepare(work: Path, sizes: Sizes, cases: list[str]) -> dict[str, Any]:
    """Write the inputs the chosen cases need; returns their parameters."""
    sys.path[:0] = [str(ROOT), str(ROOT / "connectors")]
    made: dict[str, Any] = {}
    wanted = set(cases)
    if wanted & {"recurrence_secondly", "recurrence_minutely_2000"}:
        for name, start, rule in (
            ("secondly", ":20260101T090000Z", "FREQ=SECONDLY"),
            ("minutely", ":20000101T090000Z", "FREQ=MINUTELY"),
        ):
            folder = work / f"vdir-{name}"
            folder.mkdir()
            (folder / "endless.ics").write_bytes(_calendar(_vevent(f"{name}@bench", start, rule)))
    if "vtimezone" in wanted:
        body = _timezone(sizes.timezone_mb) + _vevent(
            "zoned@bench", ";TZID=Bench/Bloated:20261102T100000"
        )
        (work / "timezone.ics").write_bytes(_calendar(body))
    if wanted & {"ics_100k_first", "ics_100k_again"}:
        with (work / "many.ics").open("wb") as out:
            out.write(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n")
            step = timedelta(days=12 * 365) / sizes.ics_events  # 2016 to 2028, the window inside
            for n in range(sizes.ics_events):
                day = datetime(2016, 1, 1, 9, tzinfo=UTC) + step * n
                out.write(_vevent(f"ev{n}@bench", f":{day:%Y%m%dT%H%M%SZ}").encode())
            out.write(b"END:VCALENDAR\r\n")
    if "maildir_head" in wanted:
        for mb in sizes.head_mb:
            root = _maildir(work / f"head-{mb}")
            with (root / "new" / "1.endless.bench").open("wb") as out:
                out.write(b"From: a@b.example\nSubject: no blank line\n")
                line = b"X-Filler: " + b"a" * 1000 + b"\n"
                for _ in range(mb * 1024 * 1024 // len(line)):
                    out.write(line)
        made["head_mb"] = list(sizes.head_mb)
    if "attachments" in wanted:
        count, mb = sizes.attachments
        root = _maildir(work / "attachments")
        blob = os.urandom(mb * 1024 * 1024)
        for n in range(count):
            (root / "new" / f"{n}.ask.bench").write_bytes(_ask(f"ask{n}@bench", blob))
        made["attachments"] = [count, mb]
    if wanted & {"mbox_first", "mbox_append_one"}:
        path = work / "inbox.mbox"
        blob = os.urandom(240 * 1024)
        with path.open("wb") as out:
            n = 0
            while out.tell() < sizes.mbox_mb * 1024 * 1024:
                out.write(b"From dana@client.example Mon Oct 26 09:30:00 2026\n")
                out.write(_ask(f"mbox{n}@bench", blob) + b"\n")
                n += 1
        made["mbox_mb"] = sizes.mbox_mb
    if "maildir_bodies_in_batches" in wanted:
        from nurture.demo import generate_bulk

        generate_bulk(work / "bulk", sizes.maildir_messages)
        made["maildir_messages"] = sizes.maildir_messages
    if "rules_hostile" in wanted:
        rules = work / "rules"
        rules.mkdir()
        deep = "[tiers.key]\ncadence = " + "[" * 50_000 + "]" * 50_000 + "\n"
        (rules / "deep.toml").write_text(deep)
        (rules / "length.toml").write_text('[tasks]\nlength = "99999999999999999999w"\n')
        (rules / "zero.toml").symlink_to("/dev/zero")
        os.mkfifo(rules / "fifo.toml")
    if "ics_100k_first" in wanted:
        made["ics_events"] = sizes.ics_events
    if "vtimezone" in wanted:
        made["timezone_mb"] = sizes.timezone_mb
    return made


# -- the cases, run in the child ---------------------------------------------------


def _window() -> tuple[datetime, datetime]:
    return NOW - timedelta(days=120), NOW + timedelta(days=15)


def case_recurrence(work: Path, name: str) -> dict[str, Any]:
    from nurture_local.calendar import VdirCalendar

    events = list(VdirCalendar(work / f"vdir-{name}", UTC).events(*_window()))
    return {"occurrences_read": len(events)}


def case_vtimezone(work: Path) -> dict[str, Any]:
    from nurture_local.calendar import IcsFileCalendar

    return {"events": len(list(IcsFileCalendar(work / "timezone.ics", UTC).events(*_window())))}


def case_ics(work: Path) -> dict[str, Any]:
    """Two syncs 15 minutes apart in one process, as the daemon does them."""
    from nurture_local.calendar import IcsFileCalendar

    store = IcsFileCalendar(work / "many.ics", UTC)
    started = time.perf_counter()
    first = len(list(store.events(*_window())))
    store.tasks()
    middle = time.perf_counter()
    later = [t + timedelta(minutes=15) for t in _window()]
    again = len(list(store.events(*later)))
    store.tasks()
    return {
        "events": first,
        "again_events": again,
        "first_s": round(middle - started, 2),
        "again_s": round(time.perf_counter() - middle, 2),
    }


def case_head(work: Path, mb: int) -> dict[str, Any]:
    from nurture_local.maildir import MaildirSource

    found = [m for b in MaildirSource(work / f"head-{mb}").changes(None, SINCE) for m in b.messages]
    return {"messages": len(found)}


def case_attachments(work: Path) -> dict[str, Any]:
    """The analysis step: every ask's body held at once, as one batch of the app holds them."""
    from nurture_local.maildir import MaildirSource

    source = MaildirSource(work / "attachments")
    ids = [m.id for b in source.changes(None, SINCE) for m in b.messages]
    bodies = list(source.bodies(ids))
    return {"bodies": len(bodies), "bytes_held": sum(len(b.raw or b"") for _, b in bodies)}


def case_mbox_first(work: Path, tag: str) -> dict[str, Any]:
    from nurture_local.mbox import MboxSource

    batches = list(MboxSource([work / "inbox.mbox"]).changes(None, SINCE))
    (work / f"cursor-{tag}.txt").write_text(batches[-1].cursor)
    return {"messages": sum(len(b.messages) for b in batches)}


def case_mbox_append(work: Path, tag: str) -> dict[str, Any]:
    from nurture_local.mbox import MboxSource

    cursor = (work / f"cursor-{tag}.txt").read_text()
    batches = list(MboxSource([work / "inbox.mbox"]).changes(cursor, SINCE))
    return {"messages": sum(len(b.messages) for b in batches)}


def case_listing(work: Path) -> dict[str, Any]:
    """Bodies asked in batches of 200, as the analysis asks them: 1 message in 30, spread
    over the Maildir as candidates are (3,333 at 100k; the analysis there had 3,260)."""
    from nurture_local.maildir import MaildirSource

    source = MaildirSource(work / "bulk")
    ids = [m.id for b in source.changes(None, SINCE) for m in b.messages][::30]
    started = time.process_time()
    got = sum(
        1 for start in range(0, len(ids), 200) for _ in source.bodies(ids[start : start + 200])
    )
    return {"bodies": got, "bodies_cpu_s": round(time.process_time() - started, 2)}


def case_rules(work: Path) -> dict[str, Any]:
    from nurture.rules import check_rules

    _book, problems = check_rules(work / "rules")
    return {"problems": len(problems)}


def child(case: str, work: Path, arg: str) -> None:
    runs: dict[str, Callable[[], dict[str, Any]]] = {
        "recurrence_secondly": lambda: case_recurrence(work, "secondly"),
        "recurrence_minutely_2000": lambda: case_recurrence(work, "minutely"),
        "vtimezone": lambda: case_vtimezone(work),
        "ics_100k": lambda: case_ics(work),
        "maildir_head": lambda: case_head(work, int(arg)),
        "attachments": lambda: case_attachments(work),
        "mbox_first": lambda: case_mbox_first(work, arg),
        "mbox_append_one": lambda: case_mbox_append(work, arg),
        "maildir_bodies_in_batches": lambda: case_listing(work),
        "rules_hostile": lambda: case_rules(work),
    }
    started = time.perf_counter()
    result = runs[case]()
    result["seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(result))


# -- the parent: run, watch, compare ----------------------------------------------


def _peak_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def measure(case: str, work: Path, code: Path, timeout: float, arg: str = "") -> dict[str, Any]:
    """Run one case in a child; its figures, wall seconds and peak RSS (or how it ended)."""
    env = {**os.environ, "PYTHONPATH": f"{code}{os.pathsep}{code / 'connectors'}"}
    command = [sys.executable, str(HERE), "--child", case, "--work", str(work), "--arg", arg]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=work,  # never the source tree: it must not shadow PYTHONPATH
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_limit,
    )
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, _peak_mb(process.pid))
        if time.perf_counter() - started > timeout:
            process.kill()
            process.wait()
            return {"killed_at_s": round(timeout), "peak_mb": peak}
        time.sleep(0.05)
    out, err = process.communicate()
    wall = round(time.perf_counter() - started, 2)
    if process.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        return {"failed": tail[0][:200], "wall_s": wall, "peak_mb": peak}
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["peak_mb"] = max(peak, result.get("peak_mb", 0.0))
    return result


def _verdict(name: str, figures: dict[str, Any], seconds_key: str = "seconds") -> dict[str, Any]:
    bound = BOUNDS.get(name)
    if bound is None or "killed_at_s" in figures or "failed" in figures:
        figures["within_bounds"] = False if bound else None
        return figures
    seconds = figures.get(seconds_key, figures.get("seconds", 0.0))
    figures["bound"] = f"{bound[0]} s, {bound[1]} MB"
    figures["within_bounds"] = seconds <= bound[0] and figures["peak_mb"] <= bound[1]
    return figures


def run_cases(
    cases: list[str], sizes: Sizes, code: Path, timeout: float, work: Path
) -> dict[str, Any]:
    made = prepare(work, sizes, cases)
    tag = hex(abs(hash(str(code))))[2:10]
    results: dict[str, Any] = {"inputs": made}
    for case in cases:
        if case == "ics_100k_first":
            figures = measure("ics_100k", work, code, timeout)
            results["ics_100k_first"] = _verdict("ics_100k_first", dict(figures), "first_s")
            results["ics_100k_again"] = _verdict("ics_100k_again", dict(figures), "again_s")
        elif case == "ics_100k_again":
            continue
        elif case == "maildir_head":
            for mb in made.get("head_mb", []):
                figures = measure(case, work, code, timeout, str(mb))
                results[f"maildir_head_{mb}mb"] = _verdict(case, figures)
        elif case == "mbox_first":
            results[case] = _verdict(case, measure(case, work, code, timeout, tag))
        elif case == "mbox_append_one":
            path = work / "inbox.mbox"
            size = path.stat().st_size
            with path.open("ab") as out:
                out.write(b"From sam@client.example Tue Oct 27 10:00:00 2026\n")
                out.write(_ask("appended@bench") + b"\n")
            try:
                results[case] = _verdict(case, measure(case, work, code, timeout, tag))
            finally:
                os.truncate(path, size)
        elif case == "maildir_bodies_in_batches":
            figures = measure(case, work, code, timeout)
            results[case] = _verdict(case, figures, "bodies_cpu_s")
        else:
            results[case] = _verdict(case, measure(case, work, code, timeout))
    return results


def run(
    cases: list[str] | None = None,
    sizes: Sizes = SMALL,
    code: Path = ROOT,
    timeout: float = 180.0,
) -> dict[str, Any]:
    """Entry point for bench/run.py: the small sizes, this tree."""
    chosen = cases or list(BOUNDS)
    with tempfile.TemporaryDirectory(prefix="nurture-hostile-") as tmp:
        return run_cases(chosen, sizes, code, timeout, Path(tmp))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--case", action="append", default=[], choices=sorted(BOUNDS))
    parser.add_argument("--code", type=Path, default=ROOT, help="tree to measure")
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--arg", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.work, args.arg)
        return
    cases = args.case or list(BOUNDS)
    sizes = SMALL if args.small else Sizes()
    work = Path(tempfile.mkdtemp(prefix="nurture-hostile-"))
    try:
        figures = run_cases(cases, sizes, args.code.resolve(), args.timeout, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"== hostile inputs, code from {args.code.resolve()}")
    for name, value in figures.items():
        print(f"  {name:28} {value}")


if __name__ == "__main__":
    main()
