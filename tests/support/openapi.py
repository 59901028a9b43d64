"""Check an HTTP request against ClickUp's own OpenAPI files: operation, parameters, headers and body."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.support.paths import TESTS

SPECS = TESTS / "specs" / "clickup"


@dataclass
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    op: dict[str, Any]
    doc: str  # "v2" or "v3"
    pointer: str  # JSON pointer of the operation in its document

    def params(self, where: str) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.op.get("parameters", []) if isinstance(p, dict) and p.get("in") == where}


@cache
def documents() -> dict[str, dict[str, Any]]:
    v2 = json.loads((SPECS / "clickup-api-v2-reference.json").read_text(encoding="utf-8"))
    v3 = yaml.safe_load((SPECS / "ClickUp_PUBLIC_API_V3.yaml").read_text(encoding="utf-8"))
    return {"v2": v2, "v3": v3}


@cache
def operations() -> list[Operation]:
    """Every operation of both files, with paths relative to `.../api` (v2's server ends in /api, v3's paths start so)."""
    ops = []
    for doc, spec in documents().items():
        for template, item in spec["paths"].items():
            relative = template.removeprefix("/api")
            regex = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(relative)) + "$"
            for method, op in item.items():
                if method in ("get", "post", "put", "delete", "patch") and isinstance(op, dict):
                    pointer = "/paths/" + template.replace("~", "~0").replace("/", "~1") + "/" + method
                    ops.append(Operation(method.upper(), template, re.compile(regex), op, doc, pointer))
    return ops


def find(method: str, path: str) -> Operation | None:
    """The operation for a path under `.../api`; a literal segment wins over a parameter."""
    matches = [o for o in operations() if o.method == method and o.pattern.match(path)]
    return min(matches, key=lambda o: o.template.count("{"), default=None)


@cache
def _registry(doc: str) -> Registry:
    return Registry().with_resource(f"urn:{doc}", Resource(documents()[doc], DRAFT202012))


def _scalar_ok(value: str, schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "boolean" in kinds:
        return value in ("true", "false")
    if "integer" in kinds:
        return re.fullmatch(r"-?\d+", value) is not None
    if "number" in kinds:
        return re.fullmatch(r"-?\d+(\.\d+)?", value) is not None
    if "const" in schema:
        return value == str(schema["const"])
    return True


def check(method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any) -> list[str]:
    """What in this request the spec does not allow (empty when it conforms)."""
    op = find(method, path)
    if op is None:
        return [f"{method} {path}: no such operation in ClickUp's API"]
    where = f"{method} {op.template}"
    problems = []
    for name, param in op.params("path").items():
        m = op.pattern.match(path)
        values = m.groups() if m else ()
        names = re.findall(r"\{([^}]+)\}", op.template)
        value = dict(zip(names, values, strict=False)).get(name, "")
        if not value or not _scalar_ok(value, param.get("schema", {})):
            problems.append(f"{where}: path parameter {name}={value!r} is not a {param.get('schema', {}).get('type')}")
    allowed = op.params("query")
    for name, values in query.items():
        if name not in allowed:
            problems.append(f"{where}: query parameter {name!r} is not in the spec")
            continue
        schema = allowed[name].get("schema", {})
        item = schema.get("items", {}) if schema.get("type") == "array" else schema
        problems += [f"{where}: {name}={v!r} is not a {item.get('type')}" for v in values if not _scalar_ok(v, item)]
    for name, param in allowed.items():
        if param.get("required") and name not in query:
            problems.append(f"{where}: required query parameter {name!r} is missing")
    lower = {k.lower(): v for k, v in headers.items()}
    for name, param in op.params("header").items():
        if param.get("required") and name.lower() not in lower:
            problems.append(f"{where}: required header {name!r} is missing")
        elif name.lower() in lower and not _scalar_ok(lower[name.lower()].split(";")[0], param.get("schema", {})):
            problems.append(f"{where}: header {name}={lower[name.lower()]!r} is not what the spec names")
    problems += _check_body(op, where, lower, body)
    return problems


def _check_body(op: Operation, where: str, headers: dict[str, str], body: Any) -> list[str]:
    request_body = op.op.get("requestBody")
    if request_body is None:
        return [f"{where}: sends a body the operation does not take"] if body is not None else []
    if body is None:
        return [f"{where}: the request body is required"] if request_body.get("required") else []
    content = request_body.get("content", {})
    sent = headers.get("content-type", "").split(";")[0].strip()
    if sent not in content:
        return [f"{where}: Content-Type {sent!r} is not one of {sorted(content)}"]
    pointer = f"{op.pointer}/requestBody/content/{sent.replace('/', '~1')}/schema"
    validator = Draft202012Validator({"$ref": f"urn:{op.doc}#{pointer}"}, registry=_registry(op.doc))
    return [f"{where}: body {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
