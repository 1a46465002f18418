from __future__ import annotations

from tests.servers.radicale import radicale  # noqa: F401  (the fixture)
