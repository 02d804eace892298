"""The ``townsquare`` command's shared pieces: the app, error handling, output helpers.

User errors (bad scenario, bad data file, unknown run) print one paragraph
naming the file, line or field and exit with code 2 — never a traceback; a
run stopped cleanly (Ctrl-C, SIGTERM, a budget, an outage) exits with 130.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from townsquare.errors import UserError

app = typer.Typer(
    name="townsquare",
    help="Simulate online social networks with heuristic and LLM agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

RunsDir = Annotated[Path, typer.Option("--runs", help="Folder holding runs.")]


EXIT_INTERRUPTED = 130


def user_errors(func: F) -> F:
    """Turn UserError into a clear message and exit code 2 (130 for a clean stop)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from townsquare.errors import RunStopped

        try:
            return func(*args, **kwargs)
        except RunStopped as exc:
            err_console.print(f"[bold yellow]stopped:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=getattr(exc, "exit_code", EXIT_INTERRUPTED)) from None
        except UserError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True,
                              soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


def parse_assignments(items: list[str] | None) -> dict[str, Any]:
    """``key.path=value`` pairs; values are read as TOML (numbers, booleans, lists) or text."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise UserError(f"--set '{item}' is not of the form key=value")
        key, raw = item.split("=", 1)
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out[key.strip()] = value
    return out



@contextmanager
def progress(total: int, quiet: bool) -> Iterator[Callable[[], None]]:
    if quiet or (not sys.stderr.isatty() and not sys.stdout.isatty()):
        yield lambda: None
        return
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("simulating", total=total)
        yield lambda: progress.advance(task)


CORE_MEASURES = (
    "total_posts", "total_engagement", "cascades", "largest_cascade", "deepest_cascade",
    "max_structural_virality", "reach_false", "reach_true", "polarization_esteban_ray",
    "friendship_paradox_share", "moderation_cost", "intervention_cost", "final_size",
    "llm_requests", "llm_decisions", "llm_cache_hits", "llm_cost", "llm_fallback_total",
    "llm_fallback_share", "wall_seconds",
)


def print_summary(result: Any, everything: bool = False) -> None:
    """The end-of-run table: the scenario's headline measures, then the core ones."""
    summary = result.summary()
    headline = [key for key in result.scenario().headline if key in summary]
    rest = [key for key in (summary if everything else CORE_MEASURES)
            if key in summary and key not in headline]
    table = Table(title=f"run {result.id}", show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key in headline:
        table.add_row(f"[bold]{key.replace('_', ' ')}[/]", f"[bold]{fmt(summary[key])}[/]")
    if headline and rest:
        table.add_section()
    for key in rest:
        table.add_row(key.replace("_", " "), fmt(summary[key]))
    console.print(table)
    if not everything and len(summary) > len(headline) + len(rest):
        console.print(f"[dim]{len(summary) - len(headline) - len(rest)} more measures: "
                      f"townsquare show {result.id} --all[/]")
    print_fallback_share(result)


def print_fallback_share(result: Any) -> None:
    """One prominent line: how many LLM decisions the heuristic made instead (any status)."""
    from townsquare.measure.summary import fallback_share

    share = fallback_share(result.metrics())
    if share is None:
        return
    decisions, fallbacks, fraction = share
    colour = "green" if fallbacks == 0 else "yellow" if fraction <= 0.2 else "bold red"
    console.print(f"[{colour}]LLM decisions: {decisions:,}; fell back to the heuristic: "
                  f"{fallbacks:,} ({fraction:.1%})[/]", highlight=False)


def fmt(value: Any) -> str:
    if isinstance(value, float):
        if value.is_integer() or abs(value) >= 1e4:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)



def print_frame(frame: Any, title: str) -> None:
    """A DataFrame as a rich table."""
    table = Table(title=title, show_header=True, header_style="bold")
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    for row in frame.itertuples(index=False):
        table.add_row(*(fmt(v) for v in row))
    console.print(table)


