"""The ``townsquare report`` and ``townsquare serve`` commands as plain functions.

cli.py wraps them in typer options; errors are UserErrors (exit code 2).
"""

from __future__ import annotations

from pathlib import Path

from townsquare.errors import UserError
from townsquare.report.guard import new_token
from townsquare.store.postgres.layout import is_store_url

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def report(run_ref: str, out: Path | None = None, runs: Path | str = Path("runs"),
           png: Path | None = None) -> Path:
    """Write the HTML report of a run or sweep; returns the file written."""
    from townsquare.report.build import write_report

    return write_report(run_ref, out, runs, png)


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse to listen beyond this machine unless asked to explicitly."""
    if host not in LOOPBACK and not allow_remote:
        raise UserError(
            f"refusing to serve on {host}: the dashboard shows run data to anyone who can "
            f"reach it and has no login. It binds 127.0.0.1 by default; pass --allow-remote "
            f"to listen on {host} anyway")


def serve(runs_dir: Path | str = Path("runs"), host: str = "127.0.0.1", port: int = 8765,
          allow_remote: bool = False, token: str | None = None) -> None:
    """Serve the dashboard for ``runs_dir`` until interrupted.

    With ``allow_remote`` every request must carry ``token`` (a fresh one is
    made and printed if none is given); without it only loopback host names are
    answered.
    """
    check_host(host, allow_remote)
    if not is_store_url(runs_dir) and not Path(runs_dir).is_dir():
        raise UserError(f"runs folder {runs_dir} does not exist (start a run with "
                        f"`townsquare run --out {runs_dir}`, or name another folder)")
    if not 0 < port < 65536:
        raise UserError(f"--port {port} is not a TCP port (1-65535)")
    import uvicorn

    from townsquare.report.server import create_app

    if allow_remote and token is None:
        token = new_token()
        print(f"dashboard token: {token} (open http://{host}:{port}/?token={token})")
    app = create_app(runs_dir, token if allow_remote else None)
    uvicorn.run(app, host=host, port=port, log_level="warning")
