"""Validate requests against the discovery documents shipped with google-api-python-client.

The fake Google routes every request through `Discovery.match` and
`Discovery.validate`, so a misspelt query parameter, an unknown body field, a
wrong type or a value outside an enum fails the test that sent it. Enums come
from the schema's ``enum`` and, where Google only documents them in prose
("Possible values are: - "opaque" ..."), from the description. Required query
parameters are those marked ``required`` or described as "Required."; required
body fields, which discovery does not mark, are taken from the API reference.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import googleapiclient

DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"

# "Required properties" of request bodies, from the API reference pages.
REQUIRED_BODY: dict[str, tuple[str, ...]] = {
    "calendar.events.insert": ("start", "end"),
    "calendar.freebusy.query": ("timeMin", "timeMax"),
    "calendar.calendars.insert": ("summary",),
}
_POSSIBLE = re.compile(r'^- "([^"]+)"', re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Route:
    method_id: str
    http_method: str
    pattern: re.Pattern[str]
    literal: int
    spec: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Match:
    method_id: str
    path_params: dict[str, str]
    spec: dict[str, Any]


class Discovery:
    """One API's discovery document: routing and validation."""

    def __init__(self, name: str) -> None:
        self.doc: dict[str, Any] = json.loads((DOCUMENTS / f"{name}.json").read_text())
        self.base = "/" + self.doc["servicePath"]
        self.routes: list[Route] = []
        self._collect(self.doc.get("resources", {}))
        self.routes.sort(key=lambda r: -r.literal)

    def _collect(self, resources: dict[str, Any]) -> None:
        for resource in resources.values():
            for method in resource.get("methods", {}).values():
                path = self.base + method.get("flatPath", method["path"])
                regex = re.sub(
                    r"\{\+?([^}]+)\}",
                    r"(?P<\1>[^/]+)",
                    re.escape(path).replace(r"\{", "{").replace(r"\}", "}"),
                )
                literal = len(re.sub(r"\{[^}]+\}", "", path))
                self.routes.append(
                    Route(
                        method["id"],
                        method["httpMethod"],
                        re.compile(f"^{regex}$"),
                        literal,
                        method,
                    )
                )
            self._collect(resource.get("resources", {}))

    def match(self, http_method: str, path: str) -> Match | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.http_method == http_method:
                params = {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
                return Match(route.method_id, params, route.spec)
        return None

    # -- validation ---------------------------------------------------------

    def validate(self, match: Match, query: dict[str, list[str]], body: Any) -> list[str]:
        """Every way this request breaks the discovery document (empty when fine)."""
        problems: list[str] = []
        spec = match.spec
        params = {**self.doc.get("parameters", {}), **spec.get("parameters", {})}
        for name, values in query.items():
            param = params.get(name)
            if param is None or param.get("location") == "path":
                problems.append(f"{match.method_id}: unknown query parameter {name!r}")
                continue
            if len(values) > 1 and not param.get("repeated"):
                problems.append(f"{match.method_id}: {name} given {len(values)} times")
            for value in values:
                problems.extend(_check_scalar(f"{match.method_id}?{name}", param, value))
        for name, param in spec.get("parameters", {}).items():
            required = param.get("required") or param.get("description", "").startswith("Required.")
            if required and param.get("location") == "query" and name not in query:
                problems.append(f"{match.method_id}: missing required parameter {name!r}")
        request = spec.get("request")
        if request is None:
            if body not in (None, b"", ""):
                problems.append(f"{match.method_id}: takes no request body")
        elif body is None:
            problems.append(f"{match.method_id}: request body missing")
        else:
            schema_name = request["$ref"]
            problems.extend(self._check(f"{match.method_id} body", {"$ref": schema_name}, body))
            for field in REQUIRED_BODY.get(match.method_id, ()):
                if not isinstance(body, dict) or field not in body:
                    problems.append(f"{match.method_id}: body lacks required field {field!r}")
        return problems

    def validate_response(self, match: Match, answer: Any) -> list[str]:
        """Problems of a response body against the method's response schema (for the fake)."""
        response = match.spec.get("response")
        if response is None or answer is None:
            return []
        return self._check(f"{match.method_id} response", {"$ref": response["$ref"]}, answer)

    def _check(self, where: str, schema: dict[str, Any], value: Any) -> list[str]:
        if "$ref" in schema:
            schema = self.doc["schemas"][schema["$ref"]]
        kind = schema.get("type")
        if kind == "object":
            if not isinstance(value, dict):
                return [f"{where}: expected an object, got {value!r}"]
            problems: list[str] = []
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                if key in props:
                    problems.extend(self._check(f"{where}.{key}", props[key], item))
                elif extra is not None:
                    problems.extend(self._check(f"{where}[{key!r}]", extra, item))
                else:
                    problems.append(f"{where}: unknown field {key!r}")
            return problems
        if kind == "array":
            if not isinstance(value, list):
                return [f"{where}: expected an array, got {value!r}"]
            return [
                p
                for i, item in enumerate(value)
                for p in self._check(f"{where}[{i}]", schema.get("items", {}), item)
            ]
        return _check_json_scalar(where, schema, value)


def _enum(schema: dict[str, Any]) -> list[str]:
    if "enum" in schema:
        return list(schema["enum"])
    description = schema.get("description", "")
    if "Possible values are" in description:
        return _POSSIBLE.findall(description.replace("  \n", "\n"))
    return []


def _check_json_scalar(where: str, schema: dict[str, Any], value: Any) -> list[str]:
    kind = schema.get("type")
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where}: expected a string, got {value!r}"]
        return _check_scalar(where, schema, value)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return [f"{where}: expected an integer, got {value!r}"]
        return _check_scalar(where, schema, str(value))
    if kind == "boolean" and not isinstance(value, bool):
        return [f"{where}: expected a boolean, got {value!r}"]
    if kind == "number" and not isinstance(value, int | float):
        return [f"{where}: expected a number, got {value!r}"]
    return []


def _check_scalar(where: str, schema: dict[str, Any], value: str) -> list[str]:
    """A query value or a JSON string against type, format and enum."""
    kind, fmt = schema.get("type"), schema.get("format")
    allowed = _enum(schema)
    if allowed and value not in allowed:
        return [f"{where}: {value!r} is not one of {allowed}"]
    if kind == "integer" or fmt in ("int64", "uint64", "int32", "uint32"):
        if not re.fullmatch(r"-?\d+", value):
            return [f"{where}: expected an integer, got {value!r}"]
        number = int(value)
        if "minimum" in schema and number < int(schema["minimum"]):
            return [f"{where}: {number} below minimum {schema['minimum']}"]
        if "maximum" in schema and number > int(schema["maximum"]):
            return [f"{where}: {number} above maximum {schema['maximum']}"]
        if fmt and fmt.startswith("u") and number < 0:
            return [f"{where}: negative {fmt}"]
    elif kind == "boolean" and value not in ("true", "false"):
        return [f"{where}: expected true/false, got {value!r}"]
    elif fmt in ("date-time", "google-datetime"):
        if not _is_rfc3339(value):
            return [f"{where}: not an RFC 3339 timestamp: {value!r}"]
    return []


def _is_rfc3339(value: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@cache
def discovery(name: str) -> Discovery:
    """The parsed discovery document `name` (e.g. ``gmail.v1``), loaded once."""
    return Discovery(name)
