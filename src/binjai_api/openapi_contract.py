"""The last pass over the generated spec, so that tools nobody here wrote read it right.

apispec writes what marshmallow declares; a client generator needs a little more (issue 16):

- every operation has an `operationId` (operation_ids.py, or the route's own `@blp.doc`) and a
  description (the summary followed by who may call it, when the route's docstring has no body);
- every enumeration is one component, referenced wherever it is used, so that no generator names
  an inline enum after its parent and collides with a schema of the same name;
- in a schema only ever answered (never read from a request), every field is `required`:
  marshmallow dumps every declared field, `null` included, so the client may rely on it;
- a nullable value is said the OpenAPI 3.1 way (`type: [..., "null"]`, `anyOf` with
  `{"type": "null"}` beside a `$ref`), never 3.0's `nullable`; an absolute URL is `format: uri`;
- a PATCH whose fields are all optional documents its body as optional.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from binjai_api.operation_ids import OPERATION_IDS

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_REF = "#/components/schemas/"
# Set by schemas.enum_field: the name of the component an enumeration becomes.
ENUM_NAME_KEY = "x-enum-name"
# Component names of enumerations whose class name alone says too little or is used twice;
# any other StrEnum's component is named after its class.
ENUM_COMPONENT_NAMES = {
    "binjai_api.complaints.states.Action": "ComplaintAction",
    "binjai_api.complaints.states.Actor": "ComplaintActor",
    "binjai_api.complaints.states.Channel": "ComplaintChannel",
    "binjai_api.complaints.states.Deadline": "ComplaintDeadline",
    "binjai_api.complaints.states.Source": "ComplaintSource",
    "binjai_api.complaints.states.Status": "ComplaintStatus",
    "binjai_api.licensing.workflow.Action": "PermitAction",
    "binjai_api.licensing.workflow.Actor": "PermitActor",
    "binjai_api.licensing.workflow.Clock": "PermitClock",
    "binjai_api.licensing.workflow.Condition": "PermitCondition",
    "binjai_api.licensing.workflow.Status": "PermitApplicationStatus",
    "binjai_api.licensing.workflow.Step": "PermitStep",
}
# Set on a response field that may be left out of an answer: it then stays optional.
OPTIONAL_KEY = "x-optional"
# Keywords that describe the use of an enumeration rather than the enumeration itself.
_USE_KEYWORDS = ("description", "default", "example", "examples", "readOnly", "writeOnly", "title")


def finish_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as served and committed; `spec` (apispec's own state) is left untouched."""
    spec = copy.deepcopy(spec)
    _name_operations(spec)
    _optional_patch_bodies(spec)
    _empty_is_absent(spec)
    _say_nullable_the_31_way(spec)
    _enumerations_as_components(spec)
    _require_answered_fields(spec)
    return spec


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def _name_operations(spec: dict[str, Any]) -> None:
    for path, method, operation in operations(spec):
        operation_id = OPERATION_IDS.get((method.upper(), path))
        if operation_id and "operationId" not in operation:
            operation["operationId"] = operation_id
        if not operation.get("description") and operation.get("summary"):
            summary = operation["summary"].rstrip(".")
            operation["description"] = f"{summary}.\n\n{_who_may_call(operation)}"


def _optional_patch_bodies(spec: dict[str, Any]) -> None:
    """A PATCH whose fields are all optional accepts no body at all, as an empty change."""
    schemas = spec.get("components", {}).get("schemas", {})
    for _path, method, operation in operations(spec):
        body = operation.get("requestBody")
        if method != "patch" or not body:
            continue
        for media in body.get("content", {}).values():
            schema = media.get("schema") or {}
            ref = schema.get("$ref", "")
            if ref.startswith(SCHEMA_REF):
                schema = schemas.get(ref[len(SCHEMA_REF) :], {})
            if schema.get("required"):
                break
        else:
            body["required"] = False


# Under these paths an optional argument sent empty is the same as one not sent (GeoReport v2,
# "Optional Arguments"; open311/schemas.py): the spec lets such a text parameter be "" too.
EMPTY_IS_ABSENT_PREFIXES = ("/open311/",)


def _empty_is_absent(spec: dict[str, Any]) -> None:
    for path, _method, operation in operations(spec):
        if not path.startswith(EMPTY_IS_ABSENT_PREFIXES):
            continue
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema") or {}
            if parameter.get("in") != "query" or parameter.get("required"):
                continue
            if schema.get("type") != "string":
                continue
            if "pattern" in schema:
                schema["pattern"] = f"^$|{schema['pattern']}"
            if "enum" in schema and "" not in schema["enum"]:
                schema["enum"] = ["", *schema["enum"]]
            schema.pop("minLength", None)


def _who_may_call(operation: dict[str, Any]) -> str:
    access = operation.get("x-access") or {}
    if access.get("public") or operation.get("security") == []:
        return "Anyone may call it, without a token."
    parts = []
    if access.get("roles"):
        parts.append("accounts with the role " + ", ".join(f"`{r}`" for r in access["roles"]))
    elif access.get("any_user"):
        parts.append("any signed-in account")
    if access.get("client_scopes"):
        scopes = ", ".join(f"`{s}`" for s in access["client_scopes"])
        parts.append(f"API clients with the scope {scopes}")
    if not parts:
        return "Needs a bearer token."
    return "Who may call it: " + "; ".join(parts) + "."


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _say_nullable_the_31_way(spec: dict[str, Any]) -> None:
    for node in _walk(spec):
        if node.pop("nullable", False) is True and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        # marshmallow's URL field: an absolute URL, which JSON Schema calls `uri` (`url` is
        # no format at all, and validators ignore it).
        if node.get("format") == "url" and node.get("type") in ("string", ["string", "null"]):
            node["format"] = "uri"


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", name))


def _enum_sites(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each inline enumeration of a schema, with a name to give it if it has none of its own."""

    def within(owner: str, schema: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        if not isinstance(schema, dict):
            return
        if "enum" in schema:
            yield owner, schema
            return
        for name, prop in (schema.get("properties") or {}).items():
            yield from within(owner + _pascal(name), prop)
        for keyword in ("items", "additionalProperties"):
            yield from within(owner, schema.get(keyword))
        for keyword in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(keyword) or []:
                yield from within(owner, sub)

    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        yield from within(name, schema)
    for path, method, operation in sorted(operations(spec), key=lambda o: (o[0], o[1])):
        owner = _pascal(operation.get("operationId") or f"{method} {path}")
        for media in (operation.get("requestBody") or {}).get("content", {}).values():
            yield from within(owner + "Body", media.get("schema"))


def _enum_values(schema: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(value for value in schema["enum"] if value is not None)


def _enumerations_as_components(spec: dict[str, Any]) -> None:
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    sites = list(_enum_sites(spec))
    # One name per set of values: the enumeration's own (a StrEnum's) first, else its first use.
    names: dict[tuple[Any, ...], str] = {}
    for _owner, site in sites:
        values = _enum_values(site)
        qualified = site.get(ENUM_NAME_KEY)
        if qualified and values not in names:
            names[values] = ENUM_COMPONENT_NAMES.get(qualified, qualified.rsplit(".", 1)[-1])
    for owner, site in sites:
        names.setdefault(_enum_values(site), owner)
    taken = set(schemas)
    for values, name in sorted(names.items(), key=lambda item: item[1]):
        unique = name
        while unique in taken:
            unique += "Enum"
        taken.add(unique)
        names[values] = unique
        schemas[unique] = {"type": _enum_type(values), "enum": list(values)}
    for _owner, site in sites:
        _refer(site, names[_enum_values(site)])
    # A parameter listing the same values as a component refers to it too.
    for _path, _method, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema") or {}
            if "enum" in schema and _enum_values(schema) in names:
                _refer(schema, names[_enum_values(schema)])
            schema.pop(ENUM_NAME_KEY, None)


def _enum_type(values: tuple[Any, ...]) -> str:
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, int) for v in values):
        return "integer"
    return "string"


def _refer(site: dict[str, Any], name: str) -> None:
    """Replace an inline enumeration by a reference to its component, keeping how it is used."""
    nullable = None in site["enum"] or "null" in (site.get("type") or [])
    use = {key: site[key] for key in _USE_KEYWORDS if key in site}
    site.clear()
    ref = {"$ref": SCHEMA_REF + name}
    if nullable:
        site["anyOf"] = [ref, {"type": "null"}]
    else:
        site.update(ref)
    site.update(use)


def _referenced(node: Any) -> set[str]:
    return {
        found["$ref"][len(SCHEMA_REF) :]
        for found in _walk(node)
        if isinstance(found.get("$ref"), str) and found["$ref"].startswith(SCHEMA_REF)
    }


def _closure(names: set[str], schemas: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        pending.extend(_referenced(schemas[name]) - seen)
    return seen


def _require_answered_fields(spec: dict[str, Any]) -> None:
    schemas = spec.get("components", {}).get("schemas", {})
    answered: set[str] = set()
    read: set[str] = set()
    for _path, _method, operation in operations(spec):
        for response in operation.get("responses", {}).values():
            answered |= _referenced(response)
        read |= _referenced(operation.get("requestBody")) | _referenced(operation.get("parameters"))
    for response in spec.get("components", {}).get("responses", {}).values():
        answered |= _referenced(response)
    only_answered = _closure(answered, schemas) - _closure(read, schemas)
    for name in only_answered:
        schema = schemas[name]
        properties = schema.get("properties") or {}
        required = [
            field for field, prop in properties.items() if not prop.pop(OPTIONAL_KEY, False)
        ]
        if required:
            schema["required"] = sorted(set(required) | set(schema.get("required", [])))
    for schema in schemas.values():
        for prop in (schema.get("properties") or {}).values():
            if isinstance(prop, dict):
                prop.pop(OPTIONAL_KEY, None)
