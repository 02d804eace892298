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


CORE_MEASURES = (
    "total_posts", "total_engagement", "cascades", "largest_cascade", "deepest_cascade",
    "max_structural_virality", "reach_false", "reach_true", "polarization_esteban_ray",
    "friendship_paradox_share", "moderation_cost", "intervention_cost", "final_size",
    "llm_requests", "llm_cache_hits", "llm_cost", "llm_fallback_total", "wall_seconds",
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
        table.add_row(f"[bold]{key.replace('_', ' ')}[/]", f"[bold]{_fmt(summary[key])}[/]")
    if headline and rest:
        table.add_section()
    for key in rest:
        table.add_row(key.replace("_", " "), _fmt(summary[key]))
    console.print(table)
    if not everything and len(summary) > len(headline) + len(rest):
        console.print(f"[dim]{len(summary) - len(headline) - len(rest)} more measures: "
                      f"townsquare show {result.id} --all[/]")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value.is_integer() or abs(value) >= 1e4:
            return f"{value:,.0f}"
        return f"{value:.4g}"
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
    all_: Annotated[bool, typer.Option("--all", help="Every measure, not only the core.")]
    = False,
) -> None:
    """Print a run's summary."""
    from townsquare.run import Run

    result = Run.open(run_ref, runs)
    meta = result.meta()
    console.print(f"[bold]{meta.get('scenario_name')}[/] seed {meta.get('seed')}, "
                  f"{meta.get('n_agents')} agents, status {meta.get('status')}, "
                  f"townsquare {meta.get('version')}")
    print_summary(result, everything=all_)


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


@app.command()
@user_errors
def sweep(
    scenario: Annotated[str, typer.Argument(help="Built-in name or TOML path.")],
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="Swept field: dotted.path=v1,v2,... (repeat for a grid).")] = None,
    replicates: Annotated[int, typer.Option(help="Runs per arm (seeds shared across arms).")] = 1,
    workers: Annotated[int | None, typer.Option(help=(
        "Processes (default: one per core); with --backend ray, runs in flight "
        "(default: as many as the cluster schedules)."))] = None,
    out: Annotated[Path | None, typer.Option(
        help="Sweep folder (default: <output_dir>/sweep-<name>); rerun to resume.")] = None,
    seed: Annotated[int | None, typer.Option(help="Base seed (default: the scenario's).")] = None,
    agents: Annotated[int | None, typer.Option(help="Override population.size.")] = None,
    steps: Annotated[int | None, typer.Option(help="Override steps.")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a field of every run: key.path=value.")] = None,
    measure: Annotated[list[str] | None, typer.Option(help="Measures to summarize.")] = None,
    backend: Annotated[str, typer.Option(help="Where runs execute: local or ray.")] = "local",
    ray_address: Annotated[str | None, typer.Option(help=(
        "Ray cluster for --backend ray (default: the scenario's distributed.ray_address, "
        "else RAY_ADDRESS, else this machine)."))] = None,
    max_runs: Annotated[int | None, typer.Option(help="Stop after this many new runs.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Run a parameter grid x replicates in parallel (resumable); print means with 95% CIs."""
    from townsquare.experiments import Sweep, summarize_sweep
    from townsquare.experiments.executors import make_executor
    from townsquare.experiments.grid import parse_param
    from townsquare.experiments.sweep import default_measures, short_labels
    from townsquare.scenario import Scenario

    overrides = parse_assignments(set_)
    overrides |= {k: v for k, v in (("population.size", agents), ("steps", steps))
                  if v is not None}
    base = Scenario.load(scenario)
    base = base.with_overrides(overrides) if overrides else base
    grid = dict(parse_param(p) for p in param or [])
    address = ray_address or (base.distributed.ray_address if base.distributed else None)
    job = Sweep(base, grid, replicates, out=out, seed=seed,
                executor=make_executor(backend, workers, address))
    todo = len(job.pending())
    todo = todo if max_runs is None else min(todo, max_runs)
    console.print(f"[bold]townsquare sweep[/] {base.name}: {len(job.plan.arms)} arms x "
                  f"{replicates} replicates, {todo} runs to do, in [cyan]{job.folder}[/]")
    with _progress(todo, quiet) as advance:
        results = job.run(progress=lambda done, total: advance(), max_runs=max_runs)
    names = measure or default_measures(job.folder, results)
    if len(results):
        summary = summarize_sweep(results, names).rename(columns=short_labels(job.folder))
        print_frame(summary, "mean and 95% CI per arm")
    console.print(f"results: [cyan]{job.folder / 'results.parquet'}[/] ({len(results)} runs)")


@app.command("sweep-summary")
@user_errors
def sweep_summary(
    sweep_dir: Annotated[Path, typer.Argument(metavar="SWEEP_DIR", help="A sweep folder.")],
    measure: Annotated[list[str] | None, typer.Option(help="Measures to summarize.")] = None,
    ci: Annotated[str, typer.Option(help="Confidence intervals: t or bootstrap.")] = "t",
    level: Annotated[float, typer.Option(help="Confidence level.")] = 0.95,
    reference: Annotated[int | None, typer.Option(help="Reference arm (default: arm 0).")]
    = None,
    csv: Annotated[Path | None, typer.Option(help="Also write the summary to this CSV.")] = None,
) -> None:
    """Print a sweep's means with CIs per arm, and effects against a reference arm."""
    from townsquare.experiments import effect_sizes, export_table, load_results, summarize_sweep
    from townsquare.experiments.sweep import default_measures, short_labels

    results = load_results(sweep_dir)
    if results.empty:
        raise UserError(f"{sweep_dir} has no completed runs yet")
    names = measure or default_measures(sweep_dir, results)
    labels = short_labels(sweep_dir)
    summary = summarize_sweep(results, names, level=level, method=ci)  # type: ignore[arg-type]
    print_frame(summary.rename(columns=labels), f"mean and {level:.0%} CI per arm ({ci})")
    if results["arm"].nunique() > 1:
        for name in names:
            effects = effect_sizes(results, name, reference, level=level,
                                   method=ci)  # type: ignore[arg-type]
            how = "paired by replicate" if effects["paired"].all() else "Welch"
            shown = [c for c in effects if c.startswith("param_")] + [
                "n", "difference", "ci_low", "ci_high", "p_value", "hedges_g"]
            print_frame(effects[shown].rename(columns=labels),
                        f"{name}: difference from the reference arm ({how})")
    if csv is not None:
        console.print(f"wrote [cyan]{export_table(summary, csv)}[/]")


@app.command("validate-run")
@user_errors
def validate_run_command(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run folder, id or 'latest'.")]
    = "latest",
    recorded: Annotated[Path | None, typer.Option(
        help="CSV of recorded cascades (cascade_id, post_id, parent_post_id, user, step).")]
    = None,
    news_only: Annotated[bool, typer.Option(
        help="Compare only cascades started by seeded news items.")] = False,
    strict: Annotated[bool, typer.Option(help="Exit with code 1 if a check fails.")] = False,
    runs: RunsDir = Path("runs"),
) -> None:
    """Check a run against stylized facts of real platforms (and recorded data)."""
    from townsquare.experiments import validate_run

    found = validate_run(run_ref, recorded, runs_dir=runs, news_only=news_only)
    checks = found.to_frame()
    colours = {"PASS": "[green]PASS[/]", "FAIL": "[red]FAIL[/]", "SKIP": "[dim]SKIP[/]"}
    checks["status"] = checks["status"].map(colours)
    print_frame(checks, f"stylized facts: run {found.run_id}")
    if found.comparison is not None:
        print_frame(found.comparison, "simulated vs recorded cascades (KS, Wasserstein)")
    if strict and not found.passed:
        raise typer.Exit(code=1)


@app.command("query")
@user_errors
def query_command(
    runs_dir: Annotated[Path, typer.Argument(metavar="RUNS_DIR", help="Folder of runs.")],
    sql: Annotated[str, typer.Argument(help="DuckDB SQL; every run table is a view.")],
    out: Annotated[Path | None, typer.Option(help="Write all rows to .csv or .parquet.")]
    = None,
    limit: Annotated[int, typer.Option(help="Rows to print.")] = 50,
) -> None:
    """SQL over every run in a folder (views: events, posts, metrics, ..., runs)."""
    from townsquare.experiments import export_table, query

    frame = query(sql, runs_dir)
    shown = f"{len(frame)} rows" + (f" (first {limit})" if len(frame) > limit else "")
    print_frame(frame.head(limit), shown)
    if out is not None:
        console.print(f"wrote [cyan]{export_table(frame, out)}[/]")


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
