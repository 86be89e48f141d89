"""Every validation message marshmallow or webargs can produce for our schemas reads in
Indonesian: the test walks every schema (those in the spec and every one the app defines), each
field, nested field and validator, makes each message in English and in Indonesian, and fails on
any that reads the same in both."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from flask_babel import force_locale

import binjai_api
from binjai_api.extensions import api
from binjai_api.validation_messages import translate

# Values a library formats into its messages, where the field does not give its own.
SAMPLES = {"input": "x", "obj_type": "datetime", "awareness": "aware", "choices": "a, b"}
# Inputs that make a validator fail, whatever it checks.
PROBES: tuple[Any, ...] = (
    "",
    " ",
    "\x00",
    "not valid ~",
    "x" * 100_001,
    -(10**12),
    10**12,
    -1,
    0,
    1.5,
    [],
    ["\x00"],
    {},
    None,
)


def _all_schema_classes(app: Flask) -> set[type[ma.Schema]]:
    """The schemas the spec registers, and every schema class the app's modules define."""
    for module in pkgutil.walk_packages(binjai_api.__path__, "binjai_api."):
        if module.name.endswith("__main__"):
            continue
        importlib.import_module(module.name)
    classes: set[type[ma.Schema]] = set()
    pending = list(ma.Schema.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("binjai_api."):
            classes.add(cls)
    with app.test_request_context():
        plugin = api.spec.plugins[0] if api.spec.plugins else None
        refs = getattr(getattr(plugin, "converter", None), "refs", {})
        for key in refs:
            schema = getattr(key, "instance", None) or (key[0] if isinstance(key, tuple) else key)
            schema_class = schema if inspect.isclass(schema) else type(schema)
            if issubclass(schema_class, ma.Schema):
                classes.add(schema_class)
    assert len(classes) > 50, "the walk found too few schemas: it is stale"
    return classes


def _instantiate(cls: type[ma.Schema]) -> ma.Schema | None:
    try:
        return cls()
    except TypeError:
        return None  # a schema that needs arguments is covered where it is used


def _fields_of(field: ma.fields.Field) -> Iterator[ma.fields.Field]:
    """A field and the fields inside it (list items, dict keys and values, tuple members)."""
    yield field
    for attribute in ("inner", "key_field", "value_field"):
        inner = getattr(field, attribute, None)
        if isinstance(inner, ma.fields.Field):
            yield from _fields_of(inner)
    for inner in getattr(field, "tuple_fields", ()) or ():
        yield from _fields_of(inner)


def _field_messages(field: ma.fields.Field) -> Iterator[tuple[str, Callable[[], str]]]:
    """Each message the field itself can give (its type's), as a thunk to run in a locale."""
    samples = {
        **SAMPLES,
        "obj_type": getattr(field, "OBJ_TYPE", SAMPLES["obj_type"]),
        "awareness": getattr(field, "AWARENESS", SAMPLES["awareness"]),
        "choices": getattr(field, "choices_text", SAMPLES["choices"]),
    }
    for key, message in field.error_messages.items():
        if key == "format":
            continue  # a dump-time error: never shown to a client as a validation message
        if isinstance(message, str):
            text = message.format_map(samples)
            yield key, lambda text=text: text  # type: ignore[misc]
        else:
            yield key, lambda message=message: str(message)  # type: ignore[misc]


def _validator_messages(validator: Callable[[Any], Any]) -> Callable[[], list[str]]:
    """The messages a validator gives for inputs it refuses."""

    def run() -> list[str]:
        messages: list[str] = []
        for probe in PROBES:
            try:
                validator(probe)
            except ma.ValidationError as error:
                raw = error.messages
                items = raw if isinstance(raw, list) else [raw]
                messages.extend(str(item) for item in items if isinstance(item, str | object))
            except Exception:  # a probe of the wrong type, not a message
                continue
        return sorted(set(messages))

    return run


def _read_in(language: str, thunk: Callable[[], Any]) -> list[str]:
    with force_locale(language):
        produced = thunk()
        items = produced if isinstance(produced, list) else [produced]
        return [translate(str(item)) for item in items]


def _untranslated(app: Flask) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    checked = 0
    with app.test_request_context():
        for cls in sorted(_all_schema_classes(app), key=lambda c: f"{c.__module__}.{c.__name__}"):
            schema = _instantiate(cls)
            if schema is None:
                continue
            where = f"{cls.__module__}.{cls.__name__}"
            thunks: list[tuple[str, Callable[[], Any]]] = [
                (f"{where}: {key}", lambda message=message: str(message))
                for key, message in schema.error_messages.items()
            ]
            for name, top in schema.fields.items():
                for field in _fields_of(top):
                    thunks += [(f"{where}.{name} {key}", t) for key, t in _field_messages(field)]
                    for validator in field.validators:
                        label = f"{where}.{name} {type(validator).__name__}"
                        thunks.append((label, _validator_messages(validator)))
            for label, thunk in thunks:
                checked += 1
                english, indonesian = _read_in("en", thunk), _read_in("id", thunk)
                for en, id_ in zip(english, indonesian, strict=False):
                    if en == id_:
                        found.setdefault(en, set()).add(label)
    assert checked > 500, f"only {checked} messages checked: the walk is stale"
    return found


def test_every_schema_message_reads_in_indonesian(app: Flask) -> None:
    untranslated = _untranslated(app)
    assert untranslated == {}, "\n".join(
        f"{message!r} (e.g. {sorted(where)[0]})" for message, where in sorted(untranslated.items())
    )


@pytest.mark.parametrize(
    ("english", "indonesian"),
    [
        ("Must be one of: a, b.", "Harus salah satu dari: a, b."),
        ("Longer than maximum length 200.", "Panjang maksimal 200."),
        ("Shorter than minimum length 2.", "Panjang minimal 2."),
        ("Length must be between 2 and 120.", "Panjang harus antara 2 dan 120."),
        (
            "Must be greater than or equal to 1 and less than or equal to 100.",
            "Harus antara 1 dan 100.",
        ),
        ("Must be greater than or equal to -90.5.", "Harus paling kecil -90.5."),
        ("Must be greater than 0.", "Harus lebih dari 0."),
        ("String does not match expected pattern.", "Format tidak sesuai."),
        ("Not a valid integer.", "Bukan bilangan bulat yang valid."),
    ],
)
def test_a_formatted_message_keeps_its_values(app: Flask, english: str, indonesian: str) -> None:
    with app.test_request_context(), force_locale("id"):
        assert translate(english) == indonesian
    with app.test_request_context(), force_locale("en"):
        assert translate(english) == english


def test_a_422_for_an_enum_reads_in_indonesian(app: Flask, client: Any) -> None:
    """Through the API: an unknown sort value, a page size above the maximum."""
    response = client.get("/api/v1/permit-types?sort=nope&include_inactive=maybe")
    assert response.status_code == 422
    messages = str(response.get_json()["errors"])
    assert "Harus salah satu dari:" in messages and "Must be one of" not in messages
    english = client.get(
        "/api/v1/permit-types?sort=nope", headers={"Accept-Language": "en"}
    ).get_json()
    assert "Must be one of:" in str(english["errors"])
