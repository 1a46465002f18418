"""One measured mail sync of a local Maildir, in its own process (for a clean peak RSS).

    python bench/local_sync.py MAILDIR STATE_DIR NOW [--analyse]

prints one JSON line: ingest seconds and changes, and with --analyse the seconds the
NLP took on the candidate messages and how many there were; peak RSS in MB.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import datetime
from pathlib import Path


def main() -> None:
    maildir, state, now = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    config = state / "config.toml"
    state.mkdir(parents=True, exist_ok=True)
    if not config.exists():
        config.write_text(
            '[user]\nname = "Bench"\naddresses = ["alex@brightpath.example"]\n'
            f'[paths]\nstate = "{state}"\nrules = "{state}/rules"\n'
            f'[accounts.mail]\nconnector = "local"\nmaildir = "{maildir}"\n'
        )
    from nurture.app import App

    moment = datetime.fromisoformat(now)
    started = time.perf_counter()
    app = App.load(config)
    changes = app.ingest("mail", moment)
    result: dict[str, float | int] = {
        "seconds": time.perf_counter() - started,
        "changes": changes,
    }
    if "--analyse" in sys.argv:
        started = time.perf_counter()
        result["analysed"] = app.analyse(moment)
        result["analyse_seconds"] = time.perf_counter() - started
    app.close()
    result["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
