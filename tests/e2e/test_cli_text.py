"""User and data text prints as written: no rich markup, no emoji codes, no lost brackets (#20)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def townsquare(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"XDG_CACHE_HOME": str(cwd / "cache")}  # query caches stay here
    return subprocess.run([sys.executable, "-m", "townsquare.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def bracketed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """A run named '[/oops]' written under the folder 'o[/x]'."""
    cwd = tmp_path_factory.mktemp("text")
    done = townsquare("run", "default", "--agents", "200", "--steps", "2", "--quiet",
                      "--out", "o[/x]", "--set", 'name="[/oops] :x:"', cwd=cwd)
    return cwd, done


def test_a_bracketed_name_and_folder_run_and_print(bracketed) -> None:
    cwd, done = bracketed
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "[/oops] :x:" in done.stdout
    assert "o[/x]/" in done.stdout
    assert (cwd / "o[/x]").is_dir()


def test_show_and_runs_print_the_name_as_written(bracketed) -> None:
    cwd, _ = bracketed
    shown = townsquare("show", "latest", "--runs", "o[/x]", cwd=cwd)
    assert shown.returncode == 0, shown.stderr
    assert "[/oops] :x:" in shown.stdout
    listed = townsquare("runs", "--runs", "o[/x]", cwd=cwd)
    assert listed.returncode == 0, listed.stderr
    assert "[/oops]" in listed.stdout


def test_a_bracketed_set_key_is_a_user_error(tmp_path: Path) -> None:
    done = townsquare("run", "default", "--agents", "100", "--steps", "1", "--quiet",
                      "--set", "[/x]=1", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "'[/x]'" in done.stderr and "unknown key" in done.stderr


def test_query_output_is_data_not_markup(bracketed) -> None:
    cwd, _ = bracketed
    done = townsquare("query", "o[/x]", "SELECT '[/x]' AS \"[b]\", ':x:' AS c, 'a[red]b' AS d",
                      cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert "[/x]" in done.stdout and ":x:" in done.stdout and "a[red]b" in done.stdout
    assert "[b]" in done.stdout
    assert "\u274c" not in done.stdout  # ':x:' is not turned into an emoji


def test_error_messages_keep_their_brackets(bracketed) -> None:
    cwd, _ = bracketed
    done = townsquare("survey", "latest", "--runs", "o[/x]", cwd=cwd)
    assert done.returncode == 2
    assert "[[surveys]]" in done.stderr
    missing = townsquare("show", "[/nope]", "--runs", "o[/x]", cwd=cwd)
    assert missing.returncode == 2 and "'[/nope]'" in missing.stderr
    assert "Traceback" not in missing.stderr
