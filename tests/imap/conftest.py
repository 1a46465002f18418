from __future__ import annotations

from tests.logcapture import verbose_log  # noqa: F401  (the fixture)
from tests.servers.dovecot import dovecot  # noqa: F401  (fixtures)
from tests.servers.radicale import radicale  # noqa: F401
