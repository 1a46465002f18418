"""nurture's benchmarks: medians over several runs, each beside its peer in the same run.

    make bench                  a table
    python bench/run.py --json  the same figures as one JSON object

Local mail sync (issue 2): initial sync of generated 10k and 100k Maildirs
(messages/s) beside `notmuch new` on the same Maildirs, a no-change sync, a
sync after 50 new messages, and peak RSS; then, once per size, the NLP on the
candidate messages that sync leaves (the few that could become nudges). Other
benchmarks (NLP, IMAP, Google, Microsoft, idle daemon, report, hostile inputs,
personal model) are added from their modules when present. The hostile inputs run
here at small sizes; `python bench/hostile.py` runs them at the sizes of issue 16.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def _sync(maildir: Path, state: Path, now: str, analyse: bool = False) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(HERE / "local_sync.py"), str(maildir), str(state), now]
        + (["--analyse"] if analyse else []),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _notmuch(maildir: Path, work: Path) -> float | None:
    binary = shutil.which("notmuch")
    if binary is None:
        return None
    db = work / "notmuch-db"
    shutil.rmtree(db, ignore_errors=True)
    db.mkdir(parents=True)
    conf = work / "notmuch.conf"
    conf.write_text(
        f"[database]\npath={maildir}\nmail_root={maildir}\n"
        f"[new]\ntags=new\n[maildir]\nsynchronize_flags=false\n"
    )
    # keep notmuch's index outside the Maildir so runs start clean
    for stale in (maildir / ".notmuch",):
        shutil.rmtree(stale, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([binary, f"--config={conf}", "new", "--quiet"], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    shutil.rmtree(maildir / ".notmuch", ignore_errors=True)
    return seconds


def local_sync(sizes: list[int], runs: int) -> dict[str, Any]:
    from nurture.demo import generate_bulk

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size in sizes:
            maildir = generate_bulk(work / f"mail-{size}", size)
            now = "2026-01-01T09:00:00+00:00"
            initial, rss = [], []
            for run in range(runs):
                state = work / f"state-{size}-{run}"
                r = _sync(maildir, state, now)
                initial.append(r["seconds"])
                rss.append(r["rss_mb"])
            # the NLP on the candidates, once, on a copy of a synced state
            shutil.copytree(work / f"state-{size}-0", work / f"state-{size}-nlp")
            nlp = _sync(maildir, work / f"state-{size}-nlp", now, analyse=True)
            state = work / f"state-{size}-0"
            nochange = [_sync(maildir, state, now)["seconds"] for _ in range(runs)]
            after50 = []
            for run in range(runs):
                for n in range(50):
                    (maildir / "new" / f"9{run:02d}{n:03d}.bench.test").write_bytes(
                        b"From: New <new@client.example>\nTo: alex@brightpath.example\n"
                        b"Subject: Hello\nMessage-ID: <new-"
                        + f"{run}-{n}".encode()
                        + b"@bench>\nDate: Thu, 01 Jan 2026 08:00:00 +0000\n\nHi\n"
                    )
                after50.append(_sync(maildir, state, now)["seconds"])
            notmuch = [t for t in (_notmuch(maildir, work) for _ in range(runs)) if t]
            med = statistics.median(initial)
            results[f"maildir_{size}"] = {
                "messages": size,
                "initial_sync_s": round(med, 3),
                "initial_msgs_per_s": round(size / med),
                "no_change_sync_s": round(statistics.median(nochange), 3),
                "sync_after_50_new_s": round(statistics.median(after50), 3),
                "peak_rss_mb": max(rss),
                "candidates_analysed": nlp.get("analysed"),
                "analyse_s": round(nlp.get("analyse_seconds", 0.0), 2),
                "peak_rss_with_nlp_mb": nlp["rss_mb"],
                "notmuch_new_s": round(statistics.median(notmuch), 3) if notmuch else None,
                "speedup_vs_notmuch": round(statistics.median(notmuch) / med, 2)
                if notmuch
                else None,
                "runs": runs,
            }
            shutil.rmtree(maildir, ignore_errors=True)
    return results


def optional(name: str) -> dict[str, Any] | None:
    """Run bench/NAME.py's run() if that benchmark exists; report its failure as data."""
    path = HERE / f"{name}.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        return module.run()
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--only", default="", help="comma-separated: local,nlp_speed,...")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    figures: dict[str, Any] = {}
    if not only or "local" in only:
        figures["local_sync"] = local_sync([int(s) for s in args.sizes.split(",")], args.runs)
    for name in (
        "nlp_speed",
        "imap_speed",
        "google_calls",
        "microsoft_requests",
        "idle",
        "report_speed",
        "hostile",
        "personal_speed",
    ):
        if not only or name in only:
            result = optional(name)
            if result is not None:
                figures[name] = result
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for section, values in figures.items():
        print(f"\n== {section}")
        rows = values.items() if isinstance(values, dict) else []
        for key, value in rows:
            if isinstance(value, dict):
                print(f"  {key}:")
                for k, v in value.items():
                    print(f"    {k:28} {v}")
            else:
                print(f"  {key:30} {value}")


if __name__ == "__main__":
    main()
