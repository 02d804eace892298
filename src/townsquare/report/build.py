"""From what a user names (a run or a sweep folder) to a report file on disk."""

from __future__ import annotations

from pathlib import Path

from townsquare.report.document import Document
from townsquare.report.extract import extract_run
from townsquare.report.html import render_document
from townsquare.report.sections import run_document
from townsquare.report.sweep import is_sweep, sweep_document
from townsquare.run import Run

REPORT_FILE = "report.html"


def run_report(run: Run, *, quick: bool = False) -> Document:
    """The report of one run (safe while it is still running); ``quick``: only the parts
    read from the metrics, the rest marked as being drawn (see ``extract_run``)."""
    return run_document(extract_run(run, quick=quick))


def build_document(ref: str | Path, runs_dir: str | Path = "runs") -> tuple[Document, Path]:
    """The report of a sweep folder or of a run (folder, id or ``latest``), and its folder."""
    for candidate in (Path(ref), Path(runs_dir) / str(ref)):
        if is_sweep(candidate):
            return sweep_document(candidate), candidate
    run = Run.open(ref, runs_dir)
    try:
        return run_report(run), run.path
    finally:
        run.reader.close()


def write_report(ref: str | Path, out: str | Path | None = None,
                 runs_dir: str | Path = "runs", png: str | Path | None = None) -> Path:
    """Write the self-contained HTML report (default ``<run or sweep>/report.html``).

    With ``png``, also write one PNG per figure into that folder.
    """
    doc, folder = build_document(ref, runs_dir)
    target = Path(out) if out is not None else folder / REPORT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_document(doc), encoding="utf-8")
    if png is not None:
        from townsquare.report.png import export_pngs

        export_pngs(doc, png)
    return target
