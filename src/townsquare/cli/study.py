"""Commands for studies: interviews, surveys, sweeps, validation, queries over runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from townsquare.cli.app import (
    RunsDir,
    TrustEndpoint,
    app,
    console,
    lit,
    parse_assignments,
    print_frame,
    progress,
    user_errors,
)
from townsquare.errors import UserError


@app.command()
@user_errors
def interview(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run folder, id or 'latest'.")],
    agent: Annotated[int, typer.Argument(help="Agent id.")],
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    runs: RunsDir = "runs",
    trust_endpoint: TrustEndpoint = False,
) -> None:
    """Ask an agent of a run a question (LLM agents answer in character)."""
    from townsquare.run import Run

    answer = Run.open(run_ref, runs).interview(agent, question, trust_endpoint=trust_endpoint)
    console.print(answer, markup=False, highlight=False)


@app.command()
@user_errors
def survey(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run folder, id or 'latest'.")]
    = "latest",
    runs: RunsDir = "runs",
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
    console.print(f"[bold]townsquare sweep[/] {lit(base.name)}: {len(job.plan.arms)} arms x "
                  f"{replicates} replicates, {todo} runs to do, in [cyan]{lit(job.folder)}[/]")
    with progress(todo, quiet) as advance:
        results = job.run(progress=lambda done, total: advance(), max_runs=max_runs)
    names = measure or default_measures(job.folder, results)
    if len(results):
        summary = summarize_sweep(results, names).rename(columns=short_labels(job.folder))
        print_frame(summary, "mean and 95% CI per arm")
    console.print(f"results: [cyan]{lit(job.folder / 'results.parquet')}[/] ({len(results)} runs)")


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
        console.print(f"wrote [cyan]{lit(export_table(summary, csv))}[/]")


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
    strict: Annotated[bool, typer.Option(
        help="Exit with code 1 if a check fails (--no-strict: always 0 after printing).")]
    = True,
    runs: RunsDir = "runs",
) -> None:
    """Check a run against stylized facts of real platforms (and recorded data).

    Exits with code 1 when a check fails (a skipped check is not a failure).
    """
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
    runs_dir: Annotated[str, typer.Argument(
        metavar="RUNS_DIR", help="Folder of runs, or a postgresql:// URL of a run store.")],
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
        console.print(f"wrote [cyan]{lit(export_table(frame, out))}[/]")


