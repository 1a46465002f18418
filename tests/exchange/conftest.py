from __future__ import annotations

from tests.logcapture import verbose_log  # noqa: F401  (the fixture)
