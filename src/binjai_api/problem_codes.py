"""Which problem codes each operation can answer: a static walk of its call graph (issue 16).

From a route's view function, the functions it calls in binjai_api modules are followed
(`service.book` through the module's imports, package re-exports included), to a bounded depth,
collecting the codes raised with literals through the errors.py helpers. Every operation of a kind
also gets the codes the framework answers for it (tokens, validation, idempotency, ...). The
result documents each error response of the operation (openapi.py); errors_catalogue.py has the
meanings. The walk does not follow dynamic dispatch (a function taken from a table, a method of an
object): a status whose codes it misses still lists the framework's own codes for it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from binjai_api.errors import STATUS_DEFAULTS
from binjai_api.errors_catalogue import codes_for_status

PACKAGE = "binjai_api"
MAX_DEPTH = 8
_HELPER_STATUS = {"conflict": 409, "unauthorized": 401, "not_found": 404, "forbidden": 403}
_HELPERS = {"Problem", "field_errors", *_HELPER_STATUS}
_TOKEN_CODES = ("missing_token", "invalid_token", "token_expired", "token_revoked")
_IDEMPOTENCY_CODES = {
    400: "invalid_idempotency_key",
    409: "idempotency_in_flight",
    422: "idempotency_key_reuse",
}
# What the framework answers for any operation that documents the status.
_FRAMEWORK_CODES: dict[int, tuple[str, ...]] = {
    400: ("malformed_json", "bad_request", "json_too_deep"),
    401: _TOKEN_CODES,
    403: ("forbidden",),
    404: ("not_found",),
    405: ("method_not_allowed",),
    409: ("conflict",),
    412: ("precondition_failed",),
    413: ("payload_too_large",),
    415: ("unsupported_media_type",),
    422: ("validation_error",),
    429: ("rate_limited",),
    500: ("internal_error",),
    503: ("database_unavailable",),
}

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_ROOT = Path(__file__).resolve().parent


def _source(name: str) -> tuple[Path, bool] | None:
    """The file of module `name` in this package, and whether it is a package."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    base = _ROOT.joinpath(*name.split(".")[1:])
    if (base / "__init__.py").is_file():
        return base / "__init__.py", True
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py"), False
    return None


@dataclass
class _Module:
    name: str
    functions: dict[str, FunctionNode] = field(default_factory=dict)
    classes: dict[str, dict[str, FunctionNode]] = field(default_factory=dict)
    # local name -> module name, or (module name, attribute)
    imports: dict[str, str | tuple[str, str]] = field(default_factory=dict)


@cache
def _module(name: str) -> _Module | None:
    source_file = _source(name)
    if source_file is None:
        return None
    path, is_package = source_file
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _Module(name)
    package = name if is_package else name.rpartition(".")[0]
    for node in tree.body:
        if isinstance(node, FunctionNode):
            module.functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            module.classes[node.name] = {
                item.name: item for item in node.body if isinstance(item, FunctionNode)
            }
        elif isinstance(node, ast.Import):
            for alias in node.names:
                module.imports[alias.asname or alias.name.partition(".")[0]] = (
                    alias.name if alias.asname else alias.name.partition(".")[0]
                )
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{source}" if source else base
            for alias in node.names:
                local = alias.asname or alias.name
                submodule = f"{source}.{alias.name}"
                is_module = _source(submodule) is not None
                module.imports[local] = submodule if is_module else (source, alias.name)
    return module


def _function(module_name: str, name: str, depth: int = 0) -> tuple[str, FunctionNode] | None:
    """A module-level function by name, following re-exports (`from .x import f`)."""
    module = _module(module_name)
    if module is None or depth > 4:
        return None
    if name in module.functions:
        return module_name, module.functions[name]
    target = module.imports.get(name)
    if isinstance(target, tuple):
        return _function(target[0], target[1], depth + 1)
    return None


def _callees(module_name: str, function: ast.AST) -> Iterator[tuple[str, FunctionNode]]:
    module = _module(module_name)
    assert module is not None
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        found = None
        if isinstance(func, ast.Name):
            found = _function(module_name, func.id)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            target = module.imports.get(func.value.id)
            if isinstance(target, str):
                found = _function(target, func.attr)
            elif isinstance(target, tuple):  # `from binjai_api.x import service`-style packages
                found = _function(f"{target[0]}.{target[1]}", func.attr)
        if found is not None:
            yield found


def _literal(node: ast.AST | None) -> Any:
    return node.value if isinstance(node, ast.Constant) else None


def _loop_values(function: FunctionNode, name: str) -> list[str]:
    """The literals a variable takes in a `for a, code, b in ((...), (...))` loop."""
    for node in ast.walk(function):
        if isinstance(node, ast.For) and isinstance(node.target, ast.Tuple):
            names = [getattr(target, "id", None) for target in node.target.elts]
            if name in names and isinstance(node.iter, ast.Tuple | ast.List):
                index = names.index(name)
                rows = [row for row in node.iter.elts if isinstance(row, ast.Tuple)]
                return [v for row in rows if isinstance(v := _literal(row.elts[index]), str)]
    return []


def raised_codes(function: FunctionNode) -> set[tuple[int, str]]:
    """(status, code) raised in `function`'s own body through the errors.py helpers."""
    found: set[tuple[int, str]] = set()
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in _HELPERS:
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        if name in ("not_found", "forbidden"):
            found.add((_HELPER_STATUS[name], name))
            continue
        if name == "Problem":
            status = _literal(node.args[0] if node.args else keywords.get("status"))
            code_node = node.args[1] if len(node.args) > 1 else keywords.get("code")
        elif name == "field_errors":
            status, code_node = 422, keywords.get("code")
        else:
            status, code_node = _HELPER_STATUS[name], node.args[0] if node.args else None
        if not isinstance(status, int):
            continue
        if code_node is None:
            codes = [STATUS_DEFAULTS[status][0]] if status in STATUS_DEFAULTS else []
        elif isinstance(code_node, ast.Name):
            codes = _loop_values(function, code_node.id)
        else:
            codes = [c] if isinstance(c := _literal(code_node), str) else []
        found.update((status, code) for code in codes)
    return found


@cache
def _walk(module_name: str, qualname: str) -> frozenset[tuple[int, str]]:
    module = _module(module_name)
    if module is None:
        return frozenset()
    owner, _, method = qualname.rpartition(".")
    start = module.classes.get(owner, {}).get(method) if owner else module.functions.get(method)
    if start is None:
        return frozenset()
    found: set[tuple[int, str]] = set()
    seen: set[int] = set()
    # The view's own decorators (a signature check, idempotency, access rules) run with it.
    frontier: list[tuple[str, FunctionNode]] = [(module_name, start)]
    for decorator in start.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        frontier.extend(_callees(module_name, ast.Call(func=target, args=[], keywords=[])))
    for _depth in range(MAX_DEPTH):
        following: list[tuple[str, FunctionNode]] = []
        for name, function in frontier:
            if id(function) in seen:
                continue
            seen.add(id(function))
            found |= raised_codes(function)
            following.extend(_callees(name, function))
        frontier = following
    return frozenset(found)


def _decorator_names(module_name: str, qualname: str) -> set[str]:
    module = _module(module_name)
    owner, _, method = qualname.rpartition(".")
    node = (module.classes.get(owner, {}).get(method) if owner else None) if module else None
    names = set()
    for decorator in node.decorator_list if node else []:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        names.add(ast.unparse(target))
    return names


def walked_codes(module_name: str, qualname: str) -> frozenset[tuple[int, str]]:
    """Every (status, code) the code under the view function `qualname` can raise."""
    return _walk(module_name, qualname)


def operation_codes(module_name: str, qualname: str, statuses: set[int]) -> dict[int, list[str]]:
    """The codes each of `statuses` can carry on the operation served by the view function
    `qualname` (`ClassView.post`) of module `module_name`."""
    walked = _walk(module_name, qualname)
    decorators = _decorator_names(module_name, qualname)
    idempotent = "idempotency.idempotent" in decorators
    public = "access.public" in decorators
    result: dict[int, list[str]] = {}
    for status in sorted(statuses):
        codes = set(_FRAMEWORK_CODES.get(status, ()))
        if public and status == 401:
            codes -= set(_TOKEN_CODES)  # no token is read
        codes |= {code for walked_status, code in walked if walked_status == status}
        if idempotent and status in _IDEMPOTENCY_CODES:
            codes.add(_IDEMPOTENCY_CODES[status])
        # A status the walk cannot explain lists every catalogued code of that status.
        result[status] = sorted(codes) or [entry.code for entry in codes_for_status(status)]
    return result
