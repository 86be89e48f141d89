"""The problem-code catalogue (errors_catalogue.py) is exactly what the source can answer."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from binjai_api import errors_catalogue
from binjai_api.errors import STATUS_DEFAULTS

SOURCE = Path(errors_catalogue.__file__).resolve().parent
DOC = SOURCE.parents[1] / "docs" / "errors.md"
# errors.py helpers and the status each answers; `Problem` takes its status as first argument.
HELPER_STATUS = {"conflict": 409, "unauthorized": 401, "not_found": 404, "forbidden": 403}
HELPERS = {"Problem", "field_errors", *HELPER_STATUS}
# Translates any werkzeug/webargs/limiter exception: its codes are STATUS_DEFAULTS' and those the
# catalogue lists in FRAMEWORK_CODE_SOURCES.
FRAMEWORK_TRANSLATORS = {("errors.py", "problem_from_http_exception")}


def _literal(node: ast.AST | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _loop_values(function: ast.AST, name: str) -> list[str] | None:
    """The literals a variable takes in a `for a, code, b in ((...), (...))` loop of `function`."""
    for node in ast.walk(function):
        if not (isinstance(node, ast.For) and isinstance(node.target, ast.Tuple)):
            continue
        names = [getattr(target, "id", None) for target in node.target.elts]
        if name in names and isinstance(node.iter, ast.Tuple | ast.List):
            index = names.index(name)
            values = [
                _literal(row.elts[index]) for row in node.iter.elts if isinstance(row, ast.Tuple)
            ]
            if values and all(isinstance(v, str) for v in values):
                return [str(v) for v in values]
    return None


def _raised_codes() -> tuple[dict[str, set[int]], list[str]]:
    """(code -> statuses) raised through the errors.py helpers, and the calls not understood.

    A helper's own body, which passes its `code` parameter on, is not a raise site."""
    found: dict[str, set[int]] = defaultdict(set)
    unresolved: list[str] = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        enclosing: dict[ast.AST, ast.AST] = {}
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                for inner in ast.walk(function):
                    enclosing[inner] = function  # outer first, so the innermost wins
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                function = enclosing.get(node, tree)
                args = getattr(function, "args", None)
                params = {a.arg for a in args.args + args.kwonlyargs} if args else set()
                where = (str(path.relative_to(SOURCE)), getattr(function, "name", ""))
                if where in FRAMEWORK_TRANSLATORS:
                    continue
                func = node.func
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                if name not in HELPERS:
                    continue
                keywords = {k.arg: k.value for k in node.keywords}
                if name == "Problem":
                    status = _literal(node.args[0] if node.args else keywords.get("status"))
                    code_node = node.args[1] if len(node.args) > 1 else keywords.get("code")
                elif name == "field_errors":
                    status, code_node = 422, keywords.get("code")
                else:
                    status = HELPER_STATUS[name]
                    code_node = (
                        node.args[0] if node.args and name in ("conflict", "unauthorized") else None
                    )
                if code_node is None:
                    codes = [STATUS_DEFAULTS[status][0]] if isinstance(status, int) else None
                elif isinstance(code_node, ast.Name) and code_node.id in params:
                    continue  # a helper passing its parameter on
                elif isinstance(code_node, ast.Name):
                    codes = _loop_values(function, code_node.id)
                else:
                    literal = _literal(code_node)
                    codes = [literal] if isinstance(literal, str) else None
                if name in ("not_found", "forbidden"):
                    codes = [name]
                if not isinstance(status, int) or not codes:
                    unresolved.append(f"{path.relative_to(SOURCE)}:{node.lineno}")
                    continue
                for code in codes:
                    found[code].add(status)
    return found, unresolved


def test_every_raised_code_is_in_the_catalogue_with_its_status() -> None:
    """A code raised anywhere in the source is catalogued, under the status it is raised with."""
    found, unresolved = _raised_codes()
    assert unresolved == [], "raise problem codes as literals so the catalogue can find them"
    assert len(found) > 50
    catalogue = errors_catalogue.BY_CODE
    missing = sorted(code for code in found if code not in catalogue)
    assert missing == [], f"codes raised but not catalogued: {missing}"
    wrong = {
        code: statuses for code, statuses in found.items() if statuses != {catalogue[code].status}
    }
    assert wrong == {}


def test_every_catalogued_code_is_raised_somewhere() -> None:
    """No catalogued code is dead: it is raised through a helper, or written by a framework
    error handler in the module the catalogue names."""
    found, _ = _raised_codes()
    dead = []
    for entry in errors_catalogue.CATALOGUE:
        if entry.code in found:
            continue
        module = errors_catalogue.FRAMEWORK_CODE_SOURCES.get(entry.code)
        literals = (
            {
                n.value
                for n in ast.walk(ast.parse((SOURCE / module).read_text(encoding="utf-8")))
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            }
            if module
            else set()
        )
        if entry.code not in literals:
            dead.append(entry.code)
    assert dead == []
    assert set(errors_catalogue.FRAMEWORK_CODE_SOURCES) <= set(errors_catalogue.BY_CODE)
    assert len(errors_catalogue.BY_CODE) == len(errors_catalogue.CATALOGUE), "a code listed twice"


def test_the_docs_page_is_the_catalogue() -> None:
    """docs/errors.md is generated from the catalogue and committed as generated."""
    assert DOC.read_text(encoding="utf-8") == errors_catalogue.markdown_table()
    assert "| 409 | `quota_full` |" in DOC.read_text(encoding="utf-8")
