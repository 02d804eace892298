"""The ``townsquare`` command's shared pieces: the app, error handling, output helpers.

User errors (bad scenario, bad data file, unknown run) print one paragraph
naming the file, line or field and exit with code 2 — never a traceback; a
run stopped cleanly (Ctrl-C, SIGTERM, a budget, an outage) exits with 130.
"""

from __future__ import annotations

import math
import numbers
import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from townsquare.errors import UserError
from townsquare.wording import plural

app = typer.Typer(
    name="townsquare",
    help="Simulate online social networks with heuristic and LLM agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# no emoji codes and no highlighting: data text such as ':x:' prints as written
console = Console(emoji=False, highlight=False)
err_console = Console(stderr=True, emoji=False, highlight=False)
F = TypeVar("F", bound=Callable[..., Any])

RunsDir = Annotated[str, typer.Option(
    "--runs", help="Folder holding runs, or a postgresql:// URL of a run store.")]
TrustEndpoint = Annotated[bool, typer.Option(
    "--trust-endpoint",
    help="Send LLM requests to the endpoints stored in the run (and read their key "
         "variables); without it an LLM run's stored endpoints are shown and refused.")]


EXIT_INTERRUPTED = 130


def _print_version(value: bool) -> None:
    if value:
        from townsquare import __version__

        console.print(f"townsquare {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version and exit.")]
    = False,
) -> None:
    """Simulate online social networks with heuristic and LLM agents."""


def lit(value: Any) -> str:
    """``value`` as text that rich prints literally inside markup (user and data text)."""
    return escape(str(value))


def user_errors(func: F) -> F:
    """Turn UserError into a clear message and exit code 2 (130 for a clean stop)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from townsquare.errors import RunStopped

        try:
            return func(*args, **kwargs)
        except RunStopped as exc:
            err_console.print(f"[bold yellow]stopped:[/] {lit(exc)}", soft_wrap=True)
            raise typer.Exit(code=getattr(exc, "exit_code", EXIT_INTERRUPTED)) from None
        except UserError as exc:
            err_console.print(f"[bold red]error:[/] {lit(exc)}", soft_wrap=True)
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


class RunProgress:
    """What a run's progress line shows: the phase, step N/total, steps/s and memory.

    Pass :meth:`step` and :meth:`phase` to ``Simulation.run(on_step=, on_phase=)``;
    the elapsed-time column keeps ticking, so a long phase is named, never silent.
    """

    def __init__(self, progress: Progress | None, total: int, first: int = 0) -> None:
        self._progress = progress
        self._task = progress.add_task("starting", total=total) if progress else None
        self._total, self._first = total, first
        self._done = 0
        self._times: list[float] = []

    def step(self, step: int, metrics: dict[str, float] | None = None) -> None:
        import time

        self._done += 1
        self._times = [*self._times, time.perf_counter()][-11:]  # the last 10 steps' rate
        if self._progress is None or self._task is None:
            return
        span = self._times[-1] - self._times[0]
        rate = f" · {(len(self._times) - 1) / span:.2f} steps/s" if span > 0 else ""
        text = f"step {step + 1}/{self._first + self._total}{rate} · {_memory()}"
        self._progress.update(self._task, advance=1, description=text)

    def phase(self, name: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=name)


def _memory() -> str:
    """The process's resident memory (Linux /proc), else its peak so far."""
    try:
        with open("/proc/self/statm") as handle:
            import os

            rss = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return f"{rss / 2**30:.2f} GiB"


@contextmanager
def run_progress(total: int, quiet: bool, first: int = 0) -> Iterator[RunProgress]:
    """A :class:`RunProgress` on the console (or a silent one: ``--quiet``, no terminal)."""
    if quiet or (not sys.stderr.isatty() and not sys.stdout.isatty()):
        yield RunProgress(None, total, first)
        return
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        yield RunProgress(progress, total, first)


@contextmanager
def building(what: str, quiet: bool) -> Iterator[None]:
    """A spinner naming a slow setup phase (``building world``) on a terminal."""
    if quiet or (not sys.stderr.isatty() and not sys.stdout.isatty()):
        yield
        return
    with console.status(what):
        yield


CORE_MEASURES = (
    "total_posts", "total_engagement", "cascades", "largest_cascade", "deepest_cascade",
    "max_structural_virality", "reach_false", "reach_true", "polarization_esteban_ray",
    "friendship_paradox_share", "moderation_cost", "intervention_cost", "final_size",
    "llm_requests", "llm_decisions", "llm_cache_hits", "llm_cost", "llm_fallback_total",
    "llm_fallback_share", "wall_seconds",
)


def print_summary(result: Any, everything: bool = False) -> None:
    """The end-of-run table: the scenario's headline measures, then the core ones.

    A measure equal to another by definition (``reach_false`` with one false item,
    ``reach_rumour``) is one row, labelled with both names.
    """
    from townsquare.measure.summary import merged_rows

    summary = result.summary()
    scenario = result.scenario()
    headline = [key for key in scenario.headline if key in summary]
    rest = [key for key in (summary if everything else CORE_MEASURES)
            if key in summary and key not in headline]
    rows = merged_rows(summary, [*headline, *rest],
                       [(item.id, item.veracity) for item in scenario.news])
    table = Table(title=f"run {lit(result.id)}", show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for i, (key, label) in enumerate(rows):
        if key in headline:
            table.add_row(Text(label, style="bold"), Text(fmt(summary[key]), style="bold"))
            continue
        if i and rows[i - 1][0] in headline:
            table.add_section()
        table.add_row(Text(label), Text(fmt(summary[key])))
    console.print(table)
    hidden = len(summary) - len(headline) - len(rest)
    if not everything and hidden:
        console.print(f"[dim]{plural(hidden, 'more measure')}: "
                      f"townsquare show {lit(result.id)} --all[/]")
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
    """A number for a table: thousands separators from 1,000 up, 4 significant digits below."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() or abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    return str(value)


def print_frame(frame: Any, title: str) -> None:
    """A DataFrame as a rich table."""
    table = Table(title=lit(title), show_header=True, header_style="bold")
    for column in frame.columns:
        table.add_column(Text(str(column)), justify="right")
    for row in frame.itertuples(index=False):
        table.add_row(*(Text(fmt(v)) for v in row))
    console.print(table)


