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
from .source import Earlier, earlier, period_messages, signals_since

__all__ = ["Inputs", "Report", "compute", "gather", "to_json"]


def gather(
    state: State,
    rules: Rulebook,
    addresses: Sequence[str],
    since: datetime | None = None,
) -> Inputs:
    """Read what the report needs: everything, or the period from `since` in full and
    only who-wrote-to-whom before it (much faster over a long history; see `source`)."""
    identity = Identity(tuple(a.lower() for a in addresses))
    if since is None:
        messages, signals, before = state.messages(), state.signals(), Earlier()
    else:
        signals = signals_since(state, since)
        messages = period_messages(state, since, signals)
        before = earlier(state, since, identity, rules)
    return Inputs(
        messages=messages,
        signals=signals,
        meetings=state.meetings(),
        ledger=state.ledger(),
        history=state.history(),
        rules=rules,
        identity=identity,
        earlier=before,
    )
