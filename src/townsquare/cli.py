"""The ``townsquare`` command: run, validate, list and inspect simulations.

User errors (bad scenario, bad data file, unknown run) print one paragraph
naming the file, line or field and exit with code 2 — never a traceback.
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
            raise typer.Exit(code=EXIT_INTERRUPTED) from None
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


@app.command()
@user_errors
def run(
    scenario: Annotated[str, typer.Argument(help="Built-in name or TOML path.")] = "default",
    agents: Annotated[int | None, typer.Option(help="Override population.size.")] = None,
    steps: Annotated[int | None, typer.Option(help="Override steps.")] = None,
    seed: Annotated[int | None, typer.Option(help="Override the seed.")] = None,
    out: Annotated[Path | None, typer.Option(help="Override output_dir.")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override any field: key.path=value.")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Run a scenario and print its summary (default: a rumour on ~10,000 agents)."""
    from townsquare.engine import Simulation
    from townsquare.scenario import Scenario

    overrides = parse_assignments(set_)
    for key, value in (("population.size", agents), ("steps", steps), ("seed", seed),
                       ("output_dir", str(out) if out else None)):
        if value is not None:
            overrides[key] = value
    loaded = Scenario.load(scenario)
    if overrides:
        loaded = loaded.with_overrides(overrides)
    console.print(f"[bold]townsquare[/] {loaded.name}: {loaded.population.size:,} agents, "
                  f"{loaded.steps} steps, seed {loaded.seed}")
    with _progress(loaded.steps, quiet) as advance:
        sim = Simulation(loaded)
        result = sim.run(on_step=lambda step, metrics: advance())
    print_summary(result)
    console.print(f"run database: [cyan]{result.path / 'run.sqlite'}[/]")


@contextmanager
def _progress(total: int, quiet: bool) -> Iterator[Callable[[], None]]:
    if quiet or (not sys.stderr.isatty() and not sys.stdout.isatty()):
        yield lambda: None
        return
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("simulating", total=total)
        yield lambda: progress.advance(task)


def print_summary(result: Any) -> None:
    """The end-of-run table: the headline numbers of a run."""
    summary = result.summary()
    headline = [key for key in result.scenario().headline if key in summary]
    table = Table(title=f"run {result.id}", show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key in headline:
        table.add_row(f"[bold]{key.replace('_', ' ')}[/]", f"[bold]{_fmt(summary[key])}[/]")
    if headline:
        table.add_section()
    for key, value in summary.items():
        if key not in headline:
            table.add_row(key.replace("_", " "), _fmt(value))
    console.print(table)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@app.command()
@user_errors
def resume(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run folder, id or 'latest'.")],
    runs: RunsDir = Path("runs"),
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Change a limit first, e.g. llm.budget_cost=20."),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Continue a stopped or crashed run from its last checkpoint."""
    from townsquare.engine import Simulation

    sim = Simulation.resume(run_ref, runs, parse_assignments(set_) or None)
    remaining = sim.scenario.steps - sim.next_step
    console.print(f"[bold]townsquare[/] resuming {sim.run_dir.name} at step {sim.next_step} "
                  f"({remaining} steps left)")
    with _progress(remaining, quiet) as advance:
        result = sim.run(on_step=lambda step, metrics: advance())
    print_summary(result)
    console.print(f"run database: [cyan]{result.path / 'run.sqlite'}[/]")


@app.command()
@user_errors
def validate(
    scenario: Annotated[str, typer.Argument(help="Built-in name or TOML path.")],
) -> None:
    """Check a scenario without running it."""
    from townsquare.scenario import Scenario

    loaded = Scenario.load(scenario)
    console.print(f"[green]ok[/]: {scenario} is a valid scenario '{loaded.name}' "
                  f"({loaded.population.size:,} agents, {loaded.steps} steps, "
                  f"behavior '{loaded.behavior.model}')")


@app.command()
@user_errors
def scenarios() -> None:
    """List the built-in scenarios."""
    from townsquare.scenario import builtin_descriptions

    table = Table(show_header=True, header_style="bold")
    table.add_column("name")
    table.add_column("what it studies")
    for name, description in builtin_descriptions().items():
        table.add_row(name, description)
    console.print(table)


@app.command()
@user_errors
def show(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run folder, id or 'latest'.")]
    = "latest",
    runs: RunsDir = Path("runs"),
) -> None:
    """Print a run's summary."""
    from townsquare.run import Run

    result = Run.open(run_ref, runs)
    meta = result.meta()
    console.print(f"[bold]{meta.get('scenario_name')}[/] seed {meta.get('seed')}, "
                  f"{meta.get('n_agents')} agents, status {meta.get('status')}, "
                  f"townsquare {meta.get('version')}")
    print_summary(result)


@app.command("runs")
@user_errors
def list_runs_command(runs: RunsDir = Path("runs")) -> None:
    """List the runs in a folder."""
    from townsquare.store import list_runs

    table = Table(show_header=True, header_style="bold")
    for column in ("run", "scenario", "status", "agents", "last step"):
        table.add_column(column)
    for info in list_runs(runs):
        table.add_row(str(info["run_id"]), str(info["scenario_name"]), str(info["status"]),
                      _fmt(info["n_agents"]), str(info["last_step"]))
    console.print(table)


@app.command()
@user_errors
def export(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run folder, id or 'latest'.")],
    out: Annotated[Path | None, typer.Option(help="Folder for the Parquet files.")] = None,
    runs: RunsDir = Path("runs"),
) -> None:
    """Export every table of a run to Parquet (the run itself is not changed)."""
    from townsquare.store import export_parquet, resolve_run

    paths = export_parquet(resolve_run(run_ref, runs), out)
    for path in paths:
        console.print(f"wrote [cyan]{path}[/]")


@app.command()
@user_errors
def interview(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run folder, id or 'latest'.")],
    agent: Annotated[int, typer.Argument(help="Agent id.")],
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    runs: RunsDir = Path("runs"),
) -> None:
    """Ask an agent of a run a question (LLM agents answer in character)."""
    from townsquare.run import Run

    console.print(Run.open(run_ref, runs).interview(agent, question), markup=False,
                  highlight=False)


@app.command()
@user_errors
def survey(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run folder, id or 'latest'.")]
    = "latest",
    runs: RunsDir = Path("runs"),
) -> None:
    """Summarize a run's survey answers: mean per wave with 95% CI, and the shift."""
    from townsquare.measure.surveys import shifts, summarize
    from townsquare.run import Run

    answers = Run.open(run_ref, runs).survey_answers()
    if answers.empty:
        raise UserError(f"run {run_ref} has no survey answers (add [[surveys]] to the scenario)")
    print_frame(summarize(answers), "answers by wave (mean, 95% CI)")
    moved = shifts(answers)
    if len(moved):
        print_frame(moved, "shift from first to last wave")


def print_frame(frame: Any, title: str) -> None:
    """A DataFrame as a rich table."""
    table = Table(title=title, show_header=True, header_style="bold")
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    for row in frame.itertuples(index=False):
        table.add_row(*(_fmt(v) for v in row))
    console.print(table)


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
    runs: RunsDir = Path("runs"),
) -> None:
    """Write a self-contained HTML report with plots of a run or a sweep."""
    from townsquare.report import commands

    path = commands.report(run_ref, out, runs, png)
    console.print(f"wrote [cyan]{path}[/]" + (f" and PNG figures in [cyan]{png}[/]" if png else ""))


@app.command()
@user_errors
def serve(
    runs_dir: Annotated[Path, typer.Argument(metavar="RUNS_DIR", help="Folder holding runs.")]
    = Path("runs"),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    allow_remote: Annotated[bool, typer.Option(help="Allow a host other than this machine.")]
    = False,
) -> None:
    """Serve a live dashboard of the runs in a folder (http://127.0.0.1:8765)."""
    from townsquare.report import commands

    commands.check_host(host, allow_remote)
    console.print(f"dashboard for [cyan]{runs_dir}[/] on [bold]http://{host}:{port}[/] "
                  "(Ctrl+C to stop)")
    commands.serve(runs_dir, host, port, allow_remote)


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
