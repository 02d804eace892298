"""Commands that show results: the HTML report and the live dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from townsquare.cli.app import (
    RunsDir,
    app,
    console,
    lit,
    user_errors,
)


@app.command()
@user_errors
def report(
    run_ref: Annotated[str, typer.Argument(metavar="RUN|SWEEP",
                                           help="Run folder, id or 'latest', or a sweep folder.")]
    = "latest",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="HTML file to write "
                                             "(default: report.html in the run folder).")] = None,
    png: Annotated[Path | None, typer.Option(help="Also export every figure as PNG here.")]
    = None,
    runs: RunsDir = "runs",
) -> None:
    """Write a self-contained HTML report with plots of a run or a sweep."""
    from townsquare.report import commands

    path = commands.report(run_ref, out, runs, png)
    console.print(f"wrote [cyan]{lit(path)}[/]"
                  + (f" and PNG figures in [cyan]{lit(png)}[/]" if png else ""))


@app.command()
@user_errors
def serve(
    runs_dir: Annotated[str, typer.Argument(
        metavar="RUNS_DIR", help="Folder holding runs, or a postgresql:// URL.")] = "runs",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    allow_remote: Annotated[bool, typer.Option(
        help="Listen beyond this machine; every request then needs the token printed at "
             "start.")] = False,
) -> None:
    """Serve a live dashboard of the runs in a folder (http://127.0.0.1:8765)."""
    from townsquare.report import commands
    from townsquare.report.guard import new_token

    commands.check_host(host, allow_remote)
    token = new_token() if allow_remote else None
    url = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
    console.print(f"dashboard for [cyan]{lit(runs_dir)}[/] on [bold]{lit(url)}[/] "
                  "(Ctrl+C to stop)")
    if token:
        console.print(f"remote access: every request needs the token {lit(token)} "
                      "(open the link above once; a cookie keeps it)")
    commands.serve(runs_dir, host, port, allow_remote, token)


