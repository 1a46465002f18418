from __future__ import annotations

from tests.servers.dovecot import dovecot  # noqa: F401  (fixtures)
from tests.servers.radicale import radicale  # noqa: F401
