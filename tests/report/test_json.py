"""`nurture report --json` follows nurture/report/schema.json."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest
from click.testing import CliRunner

from nurture.cli import main
from nurture.report.metrics import compute
from nurture.report.records import to_json

from .conftest import ANCHOR, PERIOD, Demo
from .schema_check import errors


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    text = (resources.files("nurture") / "report" / "schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@pytest.fixture
def output(demo: Demo) -> dict[str, Any]:
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "--config",
            str(demo.paths.config),
            "report",
            "--now",
            ANCHOR.isoformat(),
            "--no-analyse",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_cli_json_validates_against_the_schema(output: dict[str, Any], schema: dict) -> None:
    assert errors(output, schema, schema) == []
    assert output["overall"]["asked"] > 0 and output["keep_in_touch"]["contacts"]
    assert output["privacy"].startswith("Names, addresses, dates and subjects only")


def test_cli_json_is_the_computed_report(demo: Demo, output: dict[str, Any]) -> None:
    """The command reads the period in full and only who-wrote-to-whom before it.

    Every figure equals the report over the whole history read in full; only
    the count of touches may include an auto-reply from before the period,
    because there machine-sent mail is judged per sender, not per message.
    """
    full = json.loads(json.dumps(to_json(compute(demo.inputs, ANCHOR, PERIOD))))
    lean_contacts = output["keep_in_touch"].pop("contacts")
    full_contacts = full["keep_in_touch"].pop("contacts")
    assert output == full
    assert [c["address"] for c in lean_contacts] == [c["address"] for c in full_contacts]
    for lean, whole in zip(lean_contacts, full_contacts, strict=True):
        assert 0 <= lean.pop("touches") - whole.pop("touches") <= 2, lean["address"]
        assert lean == whole


def test_one_tier_validates_and_is_filtered(demo: Demo, schema: dict) -> None:
    data = to_json(compute(demo.inputs, ANCHOR, PERIOD, tier="key"))
    assert errors(data, schema, schema) == []
    assert data["tier_filter"] == "key"
    assert {c["tier"] for c in data["keep_in_touch"]["contacts"]} == {"key"}
    assert {d["tier"] for d in data["debts"]} <= {"key"}


def test_the_checker_catches_broken_output(output: dict[str, Any], schema: dict) -> None:
    broken = copy.deepcopy(output)
    del broken["overall"]["median_reply_hours"]
    broken["weeks"][0]["asked"] = "three"
    broken["promises"].append({"status": "forgotten"})
    broken["extra"] = 1
    found = "\n".join(errors(broken, schema, schema))
    assert "$.overall: missing 'median_reply_hours'" in found
    assert "$.weeks[0].asked" in found
    assert "forgotten" in found
    assert "unexpected 'extra'" in found


def test_every_top_level_field_is_documented(schema: dict) -> None:
    assert schema["required"] == list(schema["properties"])
    assert [k for k, v in schema["properties"].items() if not v.get("description")] == []
