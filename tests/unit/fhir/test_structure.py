"""The fast structure check is held to the R4 models: it never accepts what ``fhir.resources`` refuses, it
accepts every well-formed resource the synthetic payers and EHR write (so the model is the exception, not the
rule), and a refusal still comes with the model's own reason."""

from __future__ import annotations

import copy
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from revcycle.fhir import structure
from revcycle.fhir.ndjson import read_resources, structure_problem
from revcycle.fhir.structure import surely_valid
from revcycle.synthetic.fhir_exports import ROUTES, export_file

MUTATIONS_PER_ROUTE = 1500


def model_accepts(body: dict) -> bool:
    try:
        get_fhir_model_class(body["resourceType"]).model_validate(copy.deepcopy(body))
    except (ValidationError, ValueError, TypeError, KeyError):
        return False
    return True


@pytest.fixture(scope="module")
def resources(tmp_path_factory) -> dict[str, list[dict]]:
    work = tmp_path_factory.mktemp("fhir-exports")
    out = {}
    for route in ROUTES:
        path = export_file(route, 60, work)
        out[route] = [json.loads(line, parse_float=Decimal) for line in path.read_bytes().splitlines() if line]
    return out


def _places(body: object, path: tuple = ()) -> list[tuple]:
    """Every place in a parsed resource: the path of each dict key and list item."""
    places = []
    if isinstance(body, dict):
        for key, value in body.items():
            places.append((*path, key))
            places += _places(value, (*path, key))
    elif isinstance(body, list):
        for n, value in enumerate(body):
            places.append((*path, n))
            places += _places(value, (*path, n))
    return places


def _holder(body: dict, path: tuple) -> object:
    for step in path[:-1]:
        body = body[step]
    return body


def _sibling_names(body: dict, path: tuple) -> list[str]:
    """The JSON names the element holding ``path``'s last key may carry (its model's elements), for mutations
    that add a legal-looking name: a second choice of an ``[x]`` group, an element not yet there."""
    try:
        model = get_fhir_model_class(body["resourceType"])
    except (KeyError, ValueError, TypeError):
        return []
    for step in path[:-1]:
        if isinstance(step, int):
            continue
        spec = structure.table(model).elements.get(step)
        if spec is None or isinstance(spec[1], structure._Primitive):
            return []
        model = spec[1]
    return list(structure.table(model).elements)


ODD_VALUES = [
    None,
    "",
    " ",
    "x",
    "not a date",
    "2026-13-45",
    "2026-11-24",
    "2026-11-24T10:00:00Z",
    "USD",
    "usd",
    "http://example.org/x",
    "a b",
    0,
    -1,
    7,
    10**20,
    Decimal("1.5"),
    Decimal("-0.00"),
    True,
    False,
    [],
    {},
    [None],
    [{}],
    {"value": Decimal("1")},
    {"coding": []},
    {"reference": "Patient/1"},
    ["x"],
    "\u00e9",
    "1e3",
]


def mutate(body: dict, rng: random.Random) -> dict:
    body = copy.deepcopy(body)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        places = _places(body)
        path = rng.choice(places)
        holder, last = _holder(body, path), path[-1]
        action = rng.randrange(9)
        if action == 0:  # remove the element or item
            del holder[last]
        elif action == 1:  # another value, often of another shape
            holder[last] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif action == 2:  # a single value where a list was, or a list where a single value was
            holder[last] = holder[last][0] if isinstance(holder[last], list) and holder[last] else [holder[last]]
        elif action == 3 and isinstance(last, str):  # an element this model does not have
            holder[rng.choice(("foo", "Status", "resource_type", "class_fhir"))] = copy.deepcopy(holder[last])
        elif action == 4 and isinstance(last, str):  # a primitive extension beside the element
            holder["_" + last] = rng.choice(({"extension": [{"url": "http://x", "valueString": "y"}]}, {}, None))
        elif action == 5 and isinstance(last, str):  # an element the model has, with this element's value
            names = _sibling_names(body, path)
            if names:
                holder[rng.choice(names)] = copy.deepcopy(holder[last])
        elif action == 6 and isinstance(last, str) and not isinstance(holder, list):  # renamed
            names = _sibling_names(body, path)
            if names:
                holder[rng.choice(names)] = holder.pop(last)
        elif action == 7:  # emptied
            if isinstance(holder[last], (dict, list)):
                holder[last].clear()
        elif action == 8 and path == ("resourceType",):
            body["resourceType"] = rng.choice(("Device", "Claim", "Patient", "explanationofbenefit"))
        if not body:
            break
    return body


@pytest.mark.parametrize("route", ROUTES)
def test_every_synthetic_resource_is_accepted_without_the_model(resources, route):
    bodies = resources[route]
    assert len(bodies) > 50
    assert all(model_accepts(b) for b in bodies)
    assert [b["resourceType"] for b in bodies if not surely_valid(b)] == []


@pytest.mark.parametrize("route", ROUTES)
def test_the_fast_check_never_accepts_what_the_model_refuses(resources, route):
    rng = random.Random(f"structure-{route}")
    bodies = resources[route]
    refused = accepted = 0
    wrong = []
    for _ in range(MUTATIONS_PER_ROUTE):
        body = mutate(rng.choice(bodies), rng)
        if not isinstance(body.get("resourceType"), str):
            continue
        fast = surely_valid(body)
        model = model_accepts(body)
        refused += not model
        accepted += fast
        if fast and not model:
            wrong.append(body)
    assert wrong == [], f"{len(wrong)} mutated resources passed the fast check but not the model"
    # The mutations reach both sides: many are refused by the model, many still pass the fast check.
    assert refused > MUTATIONS_PER_ROUTE // 4 and accepted > MUTATIONS_PER_ROUTE // 20


def test_each_rule_the_model_holds_sends_the_resource_to_the_model(resources):
    eob = next(b for b in resources["remittance"] if b["resourceType"] == "ExplanationOfBenefit")
    assert surely_valid(eob)
    cases = {
        "a required element missing": lambda b: b.pop("status"),
        "a code the schema refuses": lambda b: b.update(status="not a code\t"),
        "a date that is no date": lambda b: b["item"][0].update(servicedDate="2026-02-30"),
        "two choices of one [x] element": lambda b: b["item"][0].update(servicedPeriod={"start": "2026-11-01"}),
        "an unknown element": lambda b: b.update(statusReason="x"),
        "a null": lambda b: b.update(created=None),
        "a list where one value goes": lambda b: b.update(patient=[b["patient"]]),
        "one value where a list goes": lambda b: b.update(item=b["item"][0]),
        "a primitive extension": lambda b: b.update(_status={"extension": [{"url": "u", "valueCode": "x"}]}),
        "another resource's type": lambda b: b.update(resourceType="Claim"),
    }
    for name, change in cases.items():
        body = copy.deepcopy(eob)
        change(body)
        assert not surely_valid(body), name


def test_a_refused_resource_keeps_the_models_reason(tmp_path, resources):
    eob = copy.deepcopy(next(b for b in resources["remittance"] if b["resourceType"] == "ExplanationOfBenefit"))
    eob.pop("status")
    reason, where = structure_problem(eob)
    assert reason == "MISSING_REQUIRED_ELEMENT" and where.startswith("status (")
    eob = copy.deepcopy(eob)
    eob["status"] = "active"
    eob["item"][0]["servicedDate"] = "2026-02-30"
    path = tmp_path / "one.ndjson"
    path.write_text(json.dumps(eob, default=str) + "\n")
    (item,) = read_resources(Path(path))
    assert item.reason == "BAD_ELEMENT" and "item.0.servicedDate" in item.detail
