"""A fast acceptance test for FHIR R4 structure, compiled from the ``fhir.resources`` models themselves.

Validating a resource through its pydantic model costs about a millisecond and a half: every complex element
goes through several Python-level validators of ``fhir_core``.  Nearly every resource of an export is
well-formed, so :func:`surely_valid` walks the parsed JSON against tables compiled once per model class from
the models' own metadata (each element's JSON name, whether it repeats, its element class or its primitive
type, the required elements and the ``[x]`` choice groups) and checks each primitive value with the very
pydantic schema the model field uses.

It only ever says "valid" when the model would: anything it does not model (an unknown element, a primitive
extension ``_x``, a contained resource, a null, an empty list or object, a value of the wrong shape, a
primitive the schema refuses) answers ``False``, and the caller validates that resource through the model,
which gives the verdict and the reason.  ``tests/unit/fhir/test_structure.py`` holds the two to it: over
every synthetic resource and thousands of mutations of them, ``surely_valid`` never accepts what the model
refuses.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from functools import cache

_CACHE_LIMIT = 200_000  # primitive verdicts kept per schema, then forgotten (codes and systems repeat)


@dataclass
class _Table:
    """One model class: JSON key to (repeats, element class or primitive check), what must be present, and the
    choice groups (at most one of each, exactly one when the group is required)."""

    elements: dict[str, tuple[bool, type | _Primitive]] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    choices: tuple[tuple[tuple[str, ...], bool], ...] = ()
    resource_type: str | None = None


class _Primitive:
    """A primitive element's pydantic schema, its verdicts on hashable values remembered."""

    def __init__(self, annotation: object) -> None:
        from pydantic import TypeAdapter

        self._validate = TypeAdapter(annotation).validate_python
        self._known: dict[tuple[type, object], bool] = {}

    def accepts(self, value: object) -> bool:
        key = (type(value), value)
        try:
            verdict = self._known.get(key)
        except TypeError:  # unhashable: judged each time
            return self._judge(value)
        if verdict is None:
            verdict = self._judge(value)
            if len(self._known) >= _CACHE_LIMIT:
                self._known.clear()
            self._known[key] = verdict
        return verdict

    def _judge(self, value: object) -> bool:
        try:
            self._validate(value)
        except Exception:  # noqa: BLE001 - any refusal means "ask the model"
            return False
        return True


def _without_none(annotation: object) -> object:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _element(annotation: object) -> tuple[bool, object] | None:
    """(repeats, item annotation) of a model field, or None for a shape this check does not model."""
    inner = _without_none(annotation)
    repeats = typing.get_origin(inner) in (list, typing.List)  # noqa: UP006 - the models write typing.List
    if repeats:
        (inner,) = typing.get_args(inner)
        inner = _without_none(inner)
    if typing.get_origin(inner) in (typing.Union, types.UnionType):
        return None
    return repeats, inner


@cache
def _primitive(annotation: object) -> _Primitive:
    return _Primitive(annotation)


@cache
def table(model: type) -> _Table:
    """The compiled table of one ``fhir.resources`` model class; the classes of its elements are compiled when
    first met."""
    from fhir_core.types import FhirBase, FhirElementOrResourceBase

    compiled = _Table()
    instance = model.model_construct()
    for name, info in model.model_fields.items():
        key = info.alias or name
        if name.endswith("__ext") or name == "fhir_comments" or key.startswith("_"):
            continue  # primitive extensions and comments: present in data, they send it to the model
        shape = _element(info.annotation)
        if shape is None:
            continue
        repeats, inner = shape
        if isinstance(inner, type) and issubclass(inner, FhirBase):
            if not issubclass(inner, FhirElementOrResourceBase):  # a contained resource: the model decides
                compiled.elements[key] = (repeats, inner.get_model_klass())
        elif typing.get_origin(inner) is typing.Annotated or inner in (bool, str, int):
            compiled.elements[key] = (repeats, _primitive(inner))
    aliases = {n: (i.alias or n) for n, i in model.model_fields.items()}
    required = {aliases[n] for n, i in model.model_fields.items() if i.is_required()}
    required |= {aliases[n] for n, _ in instance.get_required_fields()}
    compiled.required = tuple(sorted(required))
    choices = []
    for names in instance.get_one_of_many_fields().values():
        extra = model.model_fields[names[0]].json_schema_extra or {}
        choices.append((tuple(aliases[n] for n in names), extra.get("one_of_many_required") is True))
    compiled.choices = tuple(choices)
    if model.has_resource_base():
        compiled.resource_type = model.get_resource_type()
    return compiled


def _accepts(compiled: _Table, body: object) -> bool:
    if type(body) is not dict or not body:
        return False
    elements = compiled.elements
    for key, value in body.items():
        spec = elements.get(key)
        if spec is None:
            if key == "resourceType" and compiled.resource_type == value:
                continue
            return False
        repeats, check = spec
        if repeats:
            if type(value) is not list or not value:
                return False
            items = value
        else:
            items = (value,)
        if type(check) is not _Primitive:
            sub = table(check)
            for item in items:
                if not _accepts(sub, item):
                    return False
        else:
            for item in items:
                if item is None or type(item) in (dict, list) or not check.accepts(item):
                    return False
    for key in compiled.required:
        if key not in body:
            return False
    for names, needed in compiled.choices:
        present = sum(1 for n in names if n in body)
        if present > 1 or (needed and present == 0):
            return False
    return True


def surely_valid(body: dict) -> bool:
    """True only when the resource's model would accept ``body`` as it stands; False means "validate it
    through the model" (it may well be valid)."""
    from fhir.resources.R4B import get_fhir_model_class

    try:
        model = get_fhir_model_class(body["resourceType"])
    except (KeyError, ValueError, TypeError):
        return False
    return _accepts(table(model), body)  # its resourceType passes only as the model's own resource type
