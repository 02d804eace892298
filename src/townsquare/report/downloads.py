"""Tables of a run or sweep as downloadable CSV or Parquet files.

A run's table is read whole from its store (opened read-only, committed rows
only); Parquet columns keep the store's declared types (as ``townsquare export``
writes them). A sweep's table is its ``results.parquet``. The endpoints below serve
them, and the self-contained report files, as attachments.
"""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from townsquare.errors import UserError
from townsquare.report.html import render_document
from townsquare.report.sweep import load_results, sweep_document

FORMATS = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


def encode(frame: pd.DataFrame, fmt: str) -> bytes:
    """``frame`` as the bytes of a CSV or Parquet file."""
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8")
    if fmt == "parquet":
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
        return buffer.getvalue()
    raise UserError(f"unknown format {fmt!r}; choose {' or '.join(FORMATS)}")


def split_name(filename: str) -> tuple[str, str]:
    """``"metrics.csv"`` -> ``("metrics", "csv")``; an unknown suffix is a UserError."""
    stem, dot, fmt = filename.rpartition(".")
    if not dot or fmt not in FORMATS or not stem:
        raise UserError(f"{filename!r}: ask for TABLE.csv or TABLE.parquet")
    return stem, fmt


# -- the dashboard's download endpoints ------------------------------------------------------


def run_table(request: Request) -> Response:
    """``/runs/{id}/tables/{table}.csv`` or ``.parquet``: one table of the run, whole."""
    run_id = request.path_params["run_id"]
    board = request.app.state.dashboard
    board.run_path(run_id)  # 404 first for anything not a run here
    name, fmt_ = _file_name(request.path_params["filename"])
    frame = board.table(run_id, name)
    return _download(encode(frame, fmt_), f"{run_id}-{name}.{fmt_}", FORMATS[fmt_])


def run_report_file(request: Request) -> Response:
    run_id = request.path_params["run_id"]
    return _download(request.app.state.dashboard.report_file(run_id).encode("utf-8"),
                     f"{run_id}-report.html", "text/html; charset=utf-8")


def sweep_table(request: Request) -> Response:
    """``/sweeps/{name}/results.csv`` or ``.parquet``: the sweep's results table."""
    name = request.path_params["name"]
    folder = request.app.state.dashboard.sweep_path(name)  # 404 first for anything not a sweep here
    stem, fmt_ = _file_name(request.path_params["filename"])
    if stem != "results":
        raise HTTPException(404, "a sweep has one table: results.csv or results.parquet")
    frame = load_results(folder)
    return _download(encode(frame, fmt_), f"{name}-results.{fmt_}", FORMATS[fmt_])


def sweep_report_file(request: Request) -> Response:
    name = request.path_params["name"]
    doc = sweep_document(request.app.state.dashboard.sweep_path(name))
    return _download(render_document(doc).encode("utf-8"), f"{name}-report.html",
                     "text/html; charset=utf-8")


def _file_name(filename: str) -> tuple[str, str]:
    try:
        return split_name(filename)
    except UserError as exc:
        raise HTTPException(404, str(exc)) from None


def _download(body: bytes, filename: str, media_type: str) -> Response:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in filename)
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{safe}"',
                             "Cache-Control": "no-store"})
