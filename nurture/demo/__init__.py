"""Deterministic sample data: six months of a consultant's mail and calendar, with ground truth.

`generate(dest, anchor)` writes the demo that `nurture demo` runs on;
`generate_bulk(dest, count)` writes a large Maildir for benchmarks.
"""

from __future__ import annotations

from .generator import DemoPaths, generate, generate_bulk, is_current

__all__ = ["DemoPaths", "generate", "generate_bulk", "is_current"]
