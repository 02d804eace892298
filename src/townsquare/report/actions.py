"""The dashboard's endpoints that change something: start, pause, stop, resume, interview.

They answer only a client on this machine (its address is loopback), on top of the
Host check or token of :mod:`townsquare.report.guard`, and only JSON bodies: a
cross-site page cannot send ``application/json`` without a CORS preflight, which
this server never approves, so another site open in the same browser cannot
start or stop runs. A request whose ``Origin`` is not this server (host and port) is
refused too.
Mistakes in a request (unknown scenario, bad override) are a 400 with the message.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from townsquare.errors import UserError
from townsquare.report.guard import LOOPBACK_NAMES

MAX_BODY = 2_000_000  # an uploaded scenario is a few kB; refuse anything huge


async def checked_body(request: Request) -> dict[str, Any]:
    """The JSON object of a control request from this machine, or an HTTP error."""
    client = request.client.host if request.client else ""
    if client not in LOOPBACK_NAMES:
        raise HTTPException(403, "runs are controlled only from this machine")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPException(415, "send the request as application/json")
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower():
        raise HTTPException(403, "a page of another site cannot control runs")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise HTTPException(413, "request too large")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise HTTPException(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return body


def refused(exc: UserError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=400)


async def start_run(request: Request) -> JSONResponse:
    body = await checked_body(request)
    board = request.app.state.dashboard
    manager = board.manager()
    try:
        run_id = await _in_thread(manager.start, body.get("scenario"), body.get("toml"), body)
    except UserError as exc:
        return refused(exc)
    return JSONResponse({"run_id": run_id, "href": f"/runs/{run_id}"}, status_code=201)


async def control_run(request: Request) -> JSONResponse:
    """``POST /api/runs/{id}/{pause|stop|resume}``."""
    await checked_body(request)
    board = request.app.state.dashboard
    run_id, verb = request.path_params["run_id"], request.path_params["verb"]
    if verb not in ("pause", "stop", "resume"):
        raise HTTPException(404, f"no control {verb!r} (pause, stop, resume)")
    folder = board.run_path(run_id)  # 404 for a run not in this dashboard
    try:
        manager = board.manager()
        if verb == "pause":
            manager.pause(run_id)
        elif verb == "stop":
            manager.stop(run_id)
        else:
            await _in_thread(manager.resume, run_id, folder)
    except UserError as exc:
        return refused(exc)
    return JSONResponse({"run_id": run_id} | (manager.state(run_id) or {}))


async def interview_agent(request: Request) -> JSONResponse:
    """``POST /api/runs/{id}/agents/{agent}/interview`` with ``{"question": ...}``."""
    body = await checked_body(request)
    question = str(body.get("question") or "").strip()
    if not question:
        return JSONResponse({"error": "ask a question"}, status_code=400)
    board = request.app.state.dashboard
    run_id, agent = request.path_params["run_id"], int(request.path_params["agent"])
    try:
        answer = await _in_thread(board.interview, run_id, agent, question)
    except UserError as exc:
        return refused(exc)
    return JSONResponse({"run_id": run_id, "agent": agent, "answer": answer})


async def _in_thread(func: Any, *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(func, *args)
