"""The exception work queue and the business dashboards, served inside the Airflow api-server by the
``revcycle_work_queue`` plugin (``plugins/revcycle_work_queue.py``) under ``/revcycle``:

    /revcycle/queue                  the queue: filters, sorting, count and sum per owner team
    /revcycle/queue/<item_key>       one item: its actions, history and evidence
    /revcycle/dashboards             the governance KPIs as trends against their thresholds
    /revcycle/api/...                the same as JSON; actions are POST /revcycle/api/items/<key>/<action>

Who the caller is comes from Airflow's own auth manager (the UI's session token, or a bearer token from
``/auth/token``): ``airflow.api_fastapi.core_api.security.get_user``.  What they may do is decided in
``revcycle.jobs.work_queue`` on every request, so the API refuses what the page would not offer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from revcycle.errors import RevcycleError
from revcycle.jobs import pages

RESOURCE = "revcycle_work_queue"
STATUS_OF = {"NOT_ALLOWED": 403, "UNKNOWN_ITEM": 404, "BAD_ACTION": 400}
_TEMPLATES = pages.environment(Path(__file__).parent / "templates")


async def viewer(request: Request):
    """The caller as a work-queue actor, once the auth manager allows them to see the view at all.  Airflow's own
    ``get_user`` decides who the caller is (bearer token, else the UI's session cookie); its module is
    imported on the first request, not when the plugin loads (every Airflow process loads plugins)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.security import HTTPBearer

    from revcycle.jobs import work_queue

    try:
        user = await get_user(request, None, await HTTPBearer(auto_error=False)(request))
    except HTTPException as exc:
        # Who the caller is could not be established: 401 (RFC 6750 invalid_token), whatever the cause. Airflow
        # answers 403 for a token with a bad signature, which would tell a forger "known, but not allowed".
        if exc.status_code in (401, 403):
            raise HTTPException(
                401, str(exc.detail), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            ) from None
        raise
    if not get_auth_manager().is_authorized_custom_view(method="GET", resource_name=RESOURCE, user=user):
        raise HTTPException(403, "not allowed to see the revcycle work queue")
    is_admin = str(getattr(user, "role", "") or "").upper() == "ADMIN"
    return work_queue.actor_for(user.get_name(), airflow_admin=is_admin)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _filters(request: Request):
    from revcycle.jobs.work_queue import Filters

    q = request.query_params

    def number(name: str, kind=int):
        text = (q.get(name) or "").strip()
        if not text:
            return None
        try:
            return kind(text)
        except (ValueError, InvalidOperation):
            raise HTTPException(400, f"{name} must be a number, not {text!r}") from None

    day = (q.get("business_date") or "").strip()
    try:
        business_date = dt.date.fromisoformat(day) if day else None
    except ValueError:
        raise HTTPException(400, f"business_date must be YYYY-MM-DD, not {day!r}") from None
    return Filters(
        status=q.get("status") or "open",
        owner_team=q.get("owner_team") or None,
        category=q.get("category") or None,
        payer=q.get("payer") or None,
        assignee=q.get("assignee") or None,
        business_date=business_date,
        min_age=number("min_age"),
        max_age=number("max_age"),
        min_amount=number("min_amount", Decimal),
        max_amount=number("max_amount", Decimal),
        sort=q.get("sort") or "amount",
        descending=(q.get("order") or "desc") != "asc",
    )


async def _run(fn, *args, **kwargs):
    """Database work off the event loop (the api-server serves everything else from it)."""
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except RevcycleError as exc:
        raise HTTPException(STATUS_OF.get(exc.reason, 400), f"{exc.reason}: {exc.detail}") from None


def _queue():
    from revcycle.jobs import work_queue

    return work_queue


def _dashboards():
    from revcycle.jobs import dashboards

    return dashboards


def create_app() -> FastAPI:
    """The app the plugin mounts.  Building it imports nothing heavy (every Airflow process loads plugins):
    the queue's and dashboards' modules are imported by the first request that needs them."""
    app = FastAPI(title="revcycle work queue", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/api/me")
    async def me(actor=Depends(viewer)):  # noqa: B008
        return {"name": actor.name, "role": actor.role, "teams": sorted(actor.teams), "admin": actor.admin}

    @app.get("/api/items")
    async def items(request: Request, actor=Depends(viewer)):  # noqa: B008
        return JSONResponse(_jsonable(await _run(_queue().listing, _filters(request))))

    @app.get("/api/items/{item_key}")
    async def item(item_key: str, actor=Depends(viewer)):  # noqa: B008
        found = await _run(_queue().evidence, item_key)
        found["history"] = await _run(_queue().history, item_key)
        found["may"] = {a: _queue().may(actor, a, found["item"]) for a in _queue().ACTIONS}
        return JSONResponse(_jsonable(found))

    @app.post("/api/items/{item_key}/{action}")
    async def act(item_key: str, action: str, request: Request, actor=Depends(viewer)):  # noqa: B008
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise HTTPException(415, "send the action as application/json")  # a cross-site form cannot
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise HTTPException(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise HTTPException(400, "the body is a JSON object")
        fields = {k: body.get(k) for k in ("note", "assignee", "owner_team", "resolution_code")}
        changed = await _run(_queue().act, item_key, action, actor, **{k: v for k, v in fields.items() if v})
        return JSONResponse(_jsonable({"item": changed, "history": await _run(_queue().history, item_key)}))

    @app.get("/api/dashboards")
    async def dashboards_json(actor=Depends(viewer)):  # noqa: B008
        return JSONResponse(_jsonable(await _run(_dashboards().series)))

    @app.get("/files/{sha256}/report")
    async def report(sha256: str, actor=Depends(viewer)):  # noqa: B008
        return await _run(_report, sha256)

    @app.get("/files/{sha256}/lineage")
    async def lineage_events(sha256: str, actor=Depends(viewer)):  # noqa: B008
        from revcycle.jobs.lineage import events_for_file

        return JSONResponse(await _run(events_for_file, sha256))

    @app.get("/queue", response_class=HTMLResponse)
    async def queue_page(request: Request, actor=Depends(viewer)):  # noqa: B008
        found = await _run(_queue().listing, _filters(request))
        return _TEMPLATES.get_template("work_queue.html.j2").render(
            actor=actor, listing=found, query=dict(request.query_params), sorts=_queue().SORTS
        )

    @app.get("/queue/{item_key}", response_class=HTMLResponse)
    async def item_page(item_key: str, actor=Depends(viewer)):  # noqa: B008
        found = await _run(_queue().evidence, item_key)
        return _TEMPLATES.get_template("work_item.html.j2").render(
            actor=actor,
            it=found["item"],
            sections=found["sections"],
            files=found["files"],
            history=await _run(_queue().history, item_key),
            may={a: _queue().may(actor, a, found["item"]) for a in _queue().ACTIONS},
            codes=_queue().resolution_codes(),
            teams=_queue().teams(),
        )

    @app.get("/dashboards", response_class=HTMLResponse)
    async def dashboards_page(actor=Depends(viewer)):  # noqa: B008
        data = await _run(_dashboards().series)
        charts = [dict(c, svg=await _run(_dashboards().svg, c)) for c in data["charts"].values()]
        return _TEMPLATES.get_template("dashboards.html.j2").render(
            actor=actor, charts=charts, backlog=data["backlog_by_age"], days=data["days"]
        )

    return app


def _report(sha256: str) -> Response:
    """A file's validation report (HTML), as the ledger recorded it: counts and codes, no PHI."""
    from revcycle.adapters import ledger
    from revcycle.adapters.objectstore import read_location

    row = ledger.get(sha256)
    if row is None or not row.get("report_path"):
        raise HTTPException(404, "no validation report for this file")
    html_location = row["report_path"][: -len(".json")] + ".html"
    data = read_location(html_location)
    if data is None:
        raise HTTPException(404, "the report is gone from storage")
    return HTMLResponse(data.decode("utf-8"))
