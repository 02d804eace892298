"""Text deviation and rule-based retelling (FUSE): exact values, rates and an end-to-end check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from townsquare.engine import Simulation
from townsquare.environments.social.retelling import (
    CERTAINTY,
    EDIT_RATE,
    OPINIONS,
    comment_on,
    exaggerate,
    retell,
)
from townsquare.measure.text import deviation, similarity, tokens
from townsquare.population.model import ROLES
from townsquare.scenario import Scenario
from townsquare.scenario_types import Role

STORY = "Officials say about 12 people may have fallen ill, according to preliminary tests."


def test_similarity_exact_values() -> None:
    assert similarity(["a b c"], ["a b c"])[0] == pytest.approx(1.0)
    assert similarity(["a b c"], ["x y z"])[0] == pytest.approx(0.0)
    assert similarity(["a b c"], ["b c d"], "jaccard")[0] == pytest.approx(0.5)
    # unigrams + bigrams: {a, b, "a b"} . {a, c, "a c"} = 1 over norms sqrt(3) * sqrt(3)
    assert similarity(["a b"], ["a c"])[0] == pytest.approx(1 / 3)
    assert similarity([""], [""])[0] == 1.0
    assert tokens("It's 3.5 times, not 1,200!") == ["it's", "3.5", "times", "not", "1,200"]


def test_word_order_counts_for_cosine_not_jaccard() -> None:
    a, b = ["dog bites man"], ["man bites dog"]
    assert similarity(a, b, "jaccard")[0] == 1.0
    # the three words agree, none of the four bigrams do: 3 / (sqrt(5) sqrt(5))
    assert deviation(a, b)[0] == pytest.approx(1 - 3 / 5)


def test_similarity_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="2 texts but 1 references"):
        similarity(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="unknown similarity method"):
        similarity(["a"], ["a"], "bleu")  # type: ignore[arg-type]


def test_spreaders_turn_hedges_into_certainty_and_inflate_numbers() -> None:
    rng = np.random.default_rng(0)
    text = STORY
    for _ in range(30):
        text = exaggerate(text, rng)
    words = [w.strip(",.").lower() for w in text.split()]
    assert not {"may", "about", "preliminary"} & set(words)
    numbers = [int(w.replace(",", "")) for w in words if w.replace(",", "").isdigit()]
    assert numbers and min(numbers) > 12
    same_seed = [exaggerate(STORY, np.random.default_rng(5)) for _ in range(2)]
    assert same_seed[0] == same_seed[1]
    assert all(v == "" or v not in CERTAINTY for v in CERTAINTY.values())  # no way back


def test_commentators_add_an_opinion() -> None:
    out = comment_on(STORY, np.random.default_rng(1))
    assert out.startswith(STORY) and out[len(STORY) + 1:] in OPINIONS


@pytest.mark.parametrize("role", list(Role))
def test_each_role_edits_at_its_rate(role: Role) -> None:
    n = 4000
    roles = np.full(n, ROLES.index(role))
    parents = [STORY + " I bet this is just the beginning."] * n
    out = retell(parents, [STORY] * n, roles, np.random.default_rng(2))
    edited = np.mean([o != p for o, p in zip(out, parents, strict=True)])
    rate = EDIT_RATE[role]
    assert abs(edited - rate) < 4 * np.sqrt(rate * (1 - rate) / n) + 0.01  # rare no-op edits
    if role is Role.VERIFIER:
        assert {o for o in out if o != parents[0]} == {STORY}


def test_run_metrics_match_the_versions_in_the_posts_table(tmp_path: Path) -> None:
    scenario = Scenario.load("news-evolution").with_overrides(
        {"steps": 15, "checkpoint_every": 0, "snapshots.max_agents": 0})
    run = Simulation(scenario, run_dir=tmp_path / "run").run()
    posts = run.posts().set_index("post_id")
    kind = posts["kind"].astype(str)
    retold = kind.isin(["quote", "comment"]) & (posts["parent"] >= 0) & (posts["news"] == 0)
    # generation: retellings between a post and the original
    generation = {}
    for post_id in posts.index:  # posts come in creation order, parents first
        parent = posts.at[post_id, "parent"]
        generation[post_id] = 0 if parent < 0 else generation[parent] + int(retold[post_id])
    versions = posts[retold]
    assert versions["text"].notna().all()
    dev = deviation(versions["text"].tolist(), [scenario.news[0].text] * len(versions))
    gen = np.array([generation[p] for p in versions.index])
    final = run.metrics().iloc[-1]
    assert final["versions_story"] == len(versions)
    assert final["deviation_story"] == pytest.approx(dev.mean())
    assert final["deviation_story_g1"] == pytest.approx(dev[gen == 1].mean())
    assert final["deviation_story_g2"] == pytest.approx(dev[gen == 2].mean())
    assert (gen >= 1).all() and gen.max() >= 2
