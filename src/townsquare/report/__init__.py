"""Reports and the dashboard: see a run's or a sweep's results.

``write_report("latest")`` writes a self-contained HTML report (plots embedded,
works offline); ``create_app(runs_dir)`` is the local dashboard that lists runs
and follows running ones live. The pieces, one idea each: ``extract`` reads a
run into plot-sized data, ``figures_*`` draw it, ``sections`` arranges it into
a ``Document``, ``html`` renders that, ``png`` exports static figures,
``server`` is the dashboard.
"""

from townsquare.report.build import build_document, run_report, write_report
from townsquare.report.document import Document
from townsquare.report.html import render_document
from townsquare.report.png import export_pngs
from townsquare.report.server import create_app

__all__ = ["Document", "build_document", "create_app", "export_pngs", "render_document",
           "run_report", "write_report"]
