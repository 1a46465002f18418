"""One measured mail sync of a local Maildir, in its own process (for a clean peak RSS).

python bench/local_sync.py MAILDIR STATE_DIR  → one JSON line: seconds, changes, rss_mb
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    maildir, state = Path(sys.argv[1]), Path(sys.argv[2])
    now = sys.argv[3] if len(sys.argv) > 3 else ""
    config = state / "config.toml"
    state.mkdir(parents=True, exist_ok=True)
    if not config.exists():
        config.write_text(
            '[user]\nname = "Bench"\naddresses = ["alex@brightpath.example"]\n'
            f'[paths]\nstate = "{state}"\nrules = "{state}/rules"\n'
            f'[accounts.mail]\nconnector = "local"\nmaildir = "{maildir}"\n'
        )
    from datetime import datetime

    from nurture.app import App

    moment = datetime.fromisoformat(now) if now else None
    started = time.perf_counter()
    app = App.load(config)
    changes = app.sync_mail("mail", moment)
    app.close()
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "changes": changes, "rss_mb": round(rss, 1)}))


if __name__ == "__main__":
    main()
