"""Commands for a first study: ``init`` writes a built-in scenario as a file to edit."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from townsquare.cli.app import app, console, user_errors
from townsquare.errors import UserError


@app.command()
@user_errors
def init(
    scenario: Annotated[str, typer.Argument(help="Built-in name (or a TOML path) to start from.")]
    = "default",
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="File to write (default: SCENARIO.toml here; '-' prints it).")] = None,
    force: Annotated[bool, typer.Option(help="Replace the file if it exists.")] = False,
) -> None:
    """Write a scenario as a commented TOML file to edit and run."""
    from townsquare.scenario_template import commented_toml

    text = commented_toml(scenario)
    if out is not None and str(out) == "-":
        console.print(text, markup=False, highlight=False, end="", soft_wrap=True)
        return
    target = out or Path(f"{Path(scenario).stem}.toml")
    if target.exists() and not force:
        raise UserError(f"{target} already exists; choose another name with -o, or add --force")
    if not target.parent.is_dir():
        raise UserError(f"cannot write {target}: folder {target.parent} does not exist")
    write_atomically(target, text)
    console.print(f"wrote [cyan]{target}[/]; run it with: townsquare run {target}",
                  highlight=False)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so it is never half-written."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
