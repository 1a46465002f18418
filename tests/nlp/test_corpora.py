"""Every file of the shared public corpora goes through extraction and signals.

Skips when ../shared/corpora is absent, except on CI (CI=true), where it must exist.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"

pytestmark = pytest.mark.corpora


def _corpora() -> Path:
    if not CORPORA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CORPORA} is missing on CI")
        pytest.skip(f"{CORPORA} is absent")
    return CORPORA


@pytest.mark.timeout(600)
def test_robustness_over_real_mail() -> None:
    root = _corpora()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    try:
        import eval as runner  # bench/eval.py
    finally:
        sys.path.pop(0)
    result = runner.eval_robustness(root)
    assert result is not None
    assert result["files"] > 0
    assert result["errors"] == 0
