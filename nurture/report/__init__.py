"""The relationship report: how well the user keeps in touch, from data nurture already has.

`metrics` computes the figures from plain data; `render_text` and
`render_html` show them; `schema.json` documents the ``--json`` output.
`gather` reads what the figures need from the state store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..contacts import Identity
from ..rules import Rulebook
from ..state import State
from .metrics import Inputs, Report, compute, to_json

__all__ = ["Inputs", "Report", "compute", "gather", "to_json"]


def gather(
    state: State,
    rules: Rulebook,
    addresses: Sequence[str],
    since: datetime | None = None,
) -> Inputs:
    """Read messages (from `since`, when given), signals, meetings, ledger and history."""
    return Inputs(
        messages=state.messages(since),
        signals=state.signals(),
        meetings=state.meetings(),
        ledger=state.ledger(),
        history=state.history(),
        rules=rules,
        identity=Identity(tuple(a.lower() for a in addresses)),
    )
