"""Two objects on a calendar under one task key: reported, and neither is touched.

A store lists only what is nurture's (the marker and the UID made from it, or
the provider's equivalent), yet two objects can still claim one key: a task
file copied within a vdir, a Graph event copied in Outlook with our
properties. Keying the listing by key in a dict kept the last of them and
silently merged the two: nurture then updated or deleted one and left the
other for good. Instead such a key is held: no create, update or delete
happens for it until the user removes one of the objects, and a warning says
which calendar, which key and which objects.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from .model import TaskRecord

log = logging.getLogger(__name__)

# Warned once per process for the same objects: the daemon reconciles every 15 minutes.
_told: set[tuple[str, str, tuple[str, ...]]] = set()


def by_key(
    records: Iterable[TaskRecord], calendar: str
) -> tuple[dict[str, TaskRecord], frozenset[str]]:
    """The records by key, and apart the keys that two or more objects claim (held)."""
    found: dict[str, list[TaskRecord]] = {}
    for record in records:
        found.setdefault(record.key, []).append(record)
    held = frozenset(k for k, rs in found.items() if len(rs) > 1)
    for key in sorted(held):
        refs = tuple(sorted(r.ref for r in found[key]))
        if (calendar, key, refs) in _told:
            continue
        _told.add((calendar, key, refs))
        log.warning(
            "calendar %s: %d objects are nurture's task %s (%s); nurture leaves them all "
            "alone — delete the copies you do not want",
            calendar,
            len(refs),
            key,
            "; ".join(r.replace("\t", " ") for r in refs),
        )
    return {k: rs[0] for k, rs in found.items() if k not in held}, held
