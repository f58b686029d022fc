"""The exception work queue: people work the items the reconciliation opens (assign, comment, resolve,
reopen, reassign), each change an append-only event with who and when, and every item opens onto its
evidence (ledger entries, ERP rows, the other side of the tie-out).  No Airflow here: the plugin's
FastAPI app (``revcycle.airflow.work_queue_app``) resolves the Airflow user and calls these functions.

Who may do what (enforced here, so every caller - API, CLI, test - gets the same answer):
- anyone the auth manager lets see the view reads every item;
- an owner (a member of a team in ``include/config/work_queue_members.csv``) assigns, comments, resolves and
  reopens the items of their team(s) only;
- an admin (Airflow's Admin role, or ``admin`` in the members file) does all of that on any item and
  reassigns items between teams.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from revcycle.adapters.db import as_date, engine_for, query
from revcycle.domain.decimals import cents
from revcycle.errors import RevcycleError
from revcycle.settings import CONFIG_DIR

OPEN, RESOLVED, CLOSED = "open", "resolved", "closed"
ACTIONS = ("assign", "comment", "resolve", "reopen", "reassign")
SORTS = ("age", "amount", "category", "owner_team", "first_seen", "reference")


@dataclass(frozen=True)
class Actor:
    """Who acts: an Airflow user name, the teams whose items they own, and whether they administer the queue."""

    name: str
    teams: frozenset[str] = frozenset()
    admin: bool = False

    @property
    def role(self) -> str:
        return "admin" if self.admin else "owner" if self.teams else "viewer"


def members() -> dict[str, dict]:
    """Airflow user name -> {"teams": set, "admin": bool} from the versioned members file."""
    out: dict[str, dict] = {}
    with open(CONFIG_DIR / "work_queue_members.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            entry = out.setdefault(row["username"].strip(), {"teams": set(), "admin": False})
            if row["role"].strip() == "admin":
                entry["admin"] = True
            elif row["team"].strip():
                entry["teams"].add(row["team"].strip())
    return out


def actor_for(username: str, airflow_admin: bool = False) -> Actor:
    entry = members().get(username, {"teams": set(), "admin": False})
    return Actor(username, frozenset(entry["teams"]), airflow_admin or entry["admin"])


def airflow_users() -> str:
    """Airflow's simple auth manager users for a local home (``revcycle airflow standalone``): every member of
    the queue, an Admin where the members file says admin, else a Viewer of Airflow, plus ``viewer``."""
    names = {"admin": "admin", **{u: ("admin" if m["admin"] else "viewer") for u, m in members().items()}}
    names.setdefault("viewer", "viewer")
    return ",".join(f"{u}:{r}" for u, r in names.items())


def teams() -> list[str]:
    with open(CONFIG_DIR / "exception_routing.csv", newline="") as fh:
        return sorted({r["owner_team"] for r in csv.DictReader(fh)} | {"integration support"})


def resolution_codes() -> dict[str, str]:
    with open(CONFIG_DIR / "resolution_codes.csv", newline="") as fh:
        return {r["code"]: r["description"] for r in csv.DictReader(fh)}


def may(actor: Actor, action: str, item: dict) -> bool:
    if actor.admin:
        return True
    if action == "reassign":
        return False
    return item["owner_team"] in actor.teams


# -- reading ---------------------------------------------------------------------------------------------
def as_of() -> dt.date | None:
    """The business day of the latest reconciliation: items age against it."""
    with engine_for("ops").connect() as conn:
        return as_date(query(conn, "ops/recon_latest_day").scalar())


@dataclass
class Filters:
    status: str = OPEN  # open, resolved, closed or all
    owner_team: str | None = None
    category: str | None = None
    payer: str | None = None
    business_date: dt.date | None = None  # first seen on
    min_age: int | None = None
    max_age: int | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    assignee: str | None = None
    sort: str = "amount"
    descending: bool = True


def listing(filters: Filters) -> dict:
    """The items that pass the filters, sorted, with a count and sum per owner team (of those items)."""
    if filters.sort not in SORTS:
        raise RevcycleError("BAD_ACTION", f"sort by one of {', '.join(SORTS)}, not {filters.sort!r}")
    day = as_of()
    with engine_for("ops").connect() as conn:
        rows = [_item(dict(r), day) for r in query(conn, "ops/exception_items").mappings()]
    f = filters
    keep = [
        r
        for r in rows
        if (f.status == "all" or r["status"] == f.status)
        and (not f.owner_team or r["owner_team"] == f.owner_team)
        and (not f.category or r["category"] == f.category)
        and (not f.payer or r["payer_id"] == f.payer)
        and (not f.assignee or r["assignee"] == f.assignee)
        and (f.business_date is None or r["first_seen"] == f.business_date)
        and (f.min_age is None or r["age_days"] >= f.min_age)
        and (f.max_age is None or r["age_days"] <= f.max_age)
        and (f.min_amount is None or r["amount_at_stake"] >= f.min_amount)
        and (f.max_amount is None or r["amount_at_stake"] <= f.max_amount)
    ]
    key = {
        "age": lambda r: (r["age_days"], r["item_key"]),
        "amount": lambda r: (r["amount_at_stake"], r["item_key"]),
        "category": lambda r: (r["category"], r["reference"]),
        "owner_team": lambda r: (r["owner_team"], r["reference"]),
        "first_seen": lambda r: (r["first_seen"], r["item_key"]),
        "reference": lambda r: (r["reference"], r["item_key"]),
    }[f.sort]
    keep.sort(key=key, reverse=f.descending)
    by_owner: dict[str, dict] = {}
    for r in keep:
        o = by_owner.setdefault(r["owner_team"], {"owner_team": r["owner_team"], "items": 0, "amount": Decimal("0.00")})
        o["items"] += 1
        o["amount"] += r["amount_at_stake"]
    return {
        "as_of": day,
        "items": keep,
        "by_owner": sorted(by_owner.values(), key=lambda o: o["owner_team"]),
        "total": {"items": len(keep), "amount": cents(sum((r["amount_at_stake"] for r in keep), Decimal(0)))},
        "facets": {
            "owner_team": sorted({r["owner_team"] for r in rows}),
            "category": sorted({r["category"] for r in rows}),
            "payer": sorted({r["payer_id"] for r in rows if r["payer_id"]}),
        },
    }


def _item(row: dict, day: dt.date | None) -> dict:
    row["amount_at_stake"] = cents(row["amount_at_stake"])
    for c in ("first_seen", "last_seen", "closed_on", "resolved_on"):
        row[c] = as_date(row.get(c))
    row["age_days"] = ((day or row["last_seen"]) - row["first_seen"]).days
    return row


def item(item_key: str) -> dict:
    with engine_for("ops").connect() as conn:
        row = query(conn, "ops/wq_item", {"item_key": item_key}).mappings().first()
    if row is None:
        raise RevcycleError("UNKNOWN_ITEM", f"no exception item {item_key}")
    return _item(dict(row), as_of())


def history(item_key: str) -> list[dict]:
    with engine_for("ops").connect() as conn:
        rows = [dict(r) for r in query(conn, "ops/wq_history", {"item_key": item_key}).mappings()]
    for r in rows:
        r["business_date"] = as_date(r["business_date"])
        if r["amount_at_stake"] is not None:
            r["amount_at_stake"] = cents(r["amount_at_stake"])
    return rows


# -- acting ----------------------------------------------------------------------------------------------
def act(
    item_key: str,
    action: str,
    actor: Actor,
    *,
    note: str = "",
    assignee: str | None = None,
    owner_team: str | None = None,
    resolution_code: str | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """Apply one person's action to an item: the item's state changes and one event records who, when, what.
    Refused with reason NOT_ALLOWED when the actor may not, BAD_ACTION when the action does not fit the item."""
    if action not in ACTIONS:
        raise RevcycleError("BAD_ACTION", f"action must be one of {', '.join(ACTIONS)}")
    current = item(item_key)
    if not may(actor, action, current):
        raise RevcycleError(
            "NOT_ALLOWED",
            f"{actor.name} ({actor.role}) may not {action} an item of {current['owner_team']}"
            + ("; only an admin reassigns between teams" if action == "reassign" else ""),
        )
    note = (note or "").strip()[:1000]
    state = {
        "status": current["status"],
        "assignee": current["assignee"],
        "owner_team": current["owner_team"],
        "resolution_code": current["resolution_code"],
        "resolved_by": current["resolved_by"],
        "resolved_on": current["resolved_on"],
    }
    day = as_of() or current["last_seen"]
    if action == "assign":
        if not assignee:
            raise RevcycleError("BAD_ACTION", "assign names the person (assignee)")
        state["assignee"] = assignee.strip()[:80]
    elif action == "comment":
        if not note:
            raise RevcycleError("BAD_ACTION", "a comment needs text")
    elif action == "resolve":
        codes = resolution_codes()
        if current["status"] != OPEN:
            raise RevcycleError("BAD_ACTION", f"only an open item is resolved; this one is {current['status']}")
        if resolution_code not in codes:
            raise RevcycleError("BAD_ACTION", f"resolution code must be one of {', '.join(sorted(codes))}")
        state.update(status=RESOLVED, resolution_code=resolution_code, resolved_by=actor.name, resolved_on=day)
    elif action == "reopen":
        if current["status"] == OPEN:
            raise RevcycleError("BAD_ACTION", "the item is open already")
        state.update(status=OPEN, resolution_code=None, resolved_by=None, resolved_on=None)
    elif action == "reassign":
        if owner_team not in teams():
            raise RevcycleError("BAD_ACTION", f"owner team must be one of {', '.join(teams())}")
        if owner_team == current["owner_team"]:
            raise RevcycleError("BAD_ACTION", f"the item is owned by {owner_team} already")
        state.update(owner_team=owner_team, assignee=None)
    when = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    with engine_for("ops").begin() as conn:
        query(conn, "ops/wq_item_update", {"item_key": item_key, **state})
        query(
            conn,
            "ops/wq_action_insert",
            {
                "item_key": item_key,
                "business_date": day,
                "event": {
                    "assign": "assigned",
                    "comment": "commented",
                    "resolve": "resolved",
                    "reopen": "reopened",
                    "reassign": "reassigned",
                }[action],
                "actor": actor.name,
                "event_at": when.replace(tzinfo=None),
                "amount_at_stake": current["amount_at_stake"],
                "assignee": state["assignee"],
                "owner_team": state["owner_team"],
                "resolution_code": state["resolution_code"] if action == "resolve" else None,
                "note": note or None,
            },
        )
    return item(item_key)


# -- evidence --------------------------------------------------------------------------------------------
def evidence(item_key: str) -> dict:
    """What stands behind an item: our side and the other side of the tie-out as ERP or lake rows (business
    identifiers, amounts and tokens only), and the ledger entries of the files they came from."""
    it = item(item_key)
    day = as_of() or it["last_seen"]
    sections, shas = [], set()
    with engine_for("erp").connect() as conn:

        def rows(title: str, side: str, name: str, params: dict) -> None:
            found = [dict(r) for r in query(conn, name, params).mappings()]
            shas.update(r.pop("source_sha256") for r in found if r.get("source_sha256"))
            sections.append({"title": title, "side": side, "rows": found})

        if it["source"] == "cash":
            payer, _, trace = it["reference"].partition("|")
            rows("ERP cash receipts", "ERP", "erp/wq_cash_receipts", {"payer_id": payer, "trace_number": trace})
            deposits = _lake_rows(
                "canonical__bank_deposit",
                day,
                lambda r: r["originator_id"] == payer and r["trace_number"] == trace,
            )
            sections.append({"title": "bank deposit lines", "side": "bank", "rows": deposits})
            shas.update(r["file_name"] for r in deposits)  # lake rows name their raw file by its sha256
            payments = _lake_rows(
                "canonical__remittance",
                day,
                lambda r: r["payer_identifier"] == payer and r["trace_number"] == trace,
            )
            sections.append(
                {
                    "title": "835 payments",
                    "side": "payer",
                    "rows": [
                        {
                            k: r[k]
                            for k in (
                                "payer_identifier",
                                "payer_name",
                                "trace_number",
                                "payment_date",
                                "payment_amount",
                                "credit_debit_flag",
                                "file_name",
                                "business_date",
                            )
                        }
                        for r in payments
                    ],
                }
            )
            shas.update(r["file_name"] for r in payments)
        elif it["source"] == "claims":
            ref = {"reference": it["reference"]}
            rows("ERP receipt applications", "ERP", "erp/wq_claim_applications", ref)
            rows("277 claim status events", "payer", "erp/wq_claim_statuses", ref)
            rows("billing open A/R", "billing", "erp/wq_open_items", ref)
        else:
            ref = {"reference": it["reference"]}
            rows("invoice match outcomes", "ERP", "erp/wq_supply", ref)
            rows("supplier invoice lines", "supplier", "erp/wq_invoice_lines", ref)
            rows("implant usage issued", "operating room", "erp/wq_usage", ref)
    with engine_for("ops").connect() as conn:
        found = query(conn, "ops/wq_ledger_files", {"shas": sorted(shas)}, expanding=("shas",)) if shas else None
        files = [dict(r, business_date=as_date(r["business_date"])) for r in (found.mappings() if found else [])]
    return {"item": it, "sections": sections, "files": files}


def _lake_rows(dataset: str, day: dt.date, wanted) -> list[dict]:
    from revcycle.jobs.reconciliation import lake_table

    frame = lake_table(dataset, day)
    return [{k: v for k, v in r.items() if k != "ingest_datetime"} for r in frame.to_dict("records") if wanted(r)]
