from __future__ import annotations

from tests.servers.dovecot import dovecot  # noqa: F401  (the fixture)
