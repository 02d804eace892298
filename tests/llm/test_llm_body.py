"""Request bodies made from a template are the bytes canonical_json makes (cache keys unchanged)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llm_helpers import NEWS, TOPICS, IdleFallback, World
from scripted_transport import ScriptedTransport, SentRequest

from townsquare.behavior.llm.body import BodyTemplate, encode_value
from townsquare.behavior.llm.client import (
    CallTag,
    ChatRequest,
    canonical_json,
    structured_request,
)
from townsquare.behavior.llm.config import LLMConfig, MemoryConfig, ModelEndpoint
from townsquare.behavior.llm.http import HttpReply
from townsquare.environments.social.llm.behavior import LLMBehavior
from townsquare.environments.social.llm.schema import answer_schema

MODES = ["json_schema", "json_object", "tool", "none"]


def _builder(mode: str, compact: bool = False) -> Any:
    endpoint = ModelEndpoint(model="m", structured_output=mode, temperature=0.3)

    def build(system: str, user: str, seed: Any, posts: list[Any]) -> ChatRequest:
        schema = answer_schema(TOPICS, 3, posts, 280, 200, NEWS, coarse=compact)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return structured_request(endpoint, messages, "social_media_decision", schema, seed,
                                  CallTag(1, 2))

    return build


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(mode=st.sampled_from(MODES), compact=st.booleans(), system=_TEXT, user=_TEXT,
       seed=st.integers(0, 2**31 - 1), posts=st.lists(st.integers(0, 2**62), max_size=6))
def test_a_templated_body_is_canonical_json(mode: str, compact: bool, system: str, user: str,
                                            seed: int, posts: list[int]) -> None:
    build = _builder(mode, compact)
    template = BodyTemplate(build, bool(posts))
    assert template.usable == (mode != "none")  # "none" rewrites the system message
    request = build(system, user, seed, posts)
    expected = canonical_json(request.payload())
    assert template.body(request, encode_value(system), user, seed, posts) == expected


def test_a_template_that_does_not_fit_is_not_used() -> None:
    """Checked on its first request: a template whose pieces do not give canonical_json's
    bytes (here: requests built with another temperature than the template) is dropped."""
    template = BodyTemplate(_builder("json_schema"), True)
    request = _builder("json_schema")("sys", "user", 7, [3, 1])
    request.temperature = 0.9
    body = template.body(request, encode_value("sys"), "user", 7, [3, 1])
    assert body == canonical_json(request.payload()) and not template.usable


def _canned(request: SentRequest) -> HttpReply:
    payload = json.loads(request.content or b"{}")
    text = json.dumps({"actions": [{"type": "idle", "reason": "quiet"}],
                       "attitude": {t: 0.1 for t in TOPICS},
                       "emotion": {"valence": 0.0, "arousal": 0.5}})
    return HttpReply(200, json.dumps({
        "model": payload.get("model"),
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
    }).encode())


def _bodies(world: World, tmp_path: Path, mode: str, compact: bool, templates: bool,
            monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    transport = ScriptedTransport(_canned)
    endpoint = ModelEndpoint(base_url="http://127.0.0.1:1/v1", model="m", api_key_env=None,
                             structured_output=mode, concurrency=4)
    config = LLMConfig(models=[endpoint], memory=MemoryConfig(reflect_every=0), cache=False,
                       prompt="compact" if compact else "full")
    with monkeypatch.context() as patch:
        if not templates:
            patch.setattr(BodyTemplate, "body", lambda self, request, *a: request.body())
        with LLMBehavior(config, world.population, TOPICS, NEWS, IdleFallback(), run_seed=3,
                         transport=transport, check=False) as behavior:
            import numpy as np

            rng = np.random.default_rng(0)
            for step in range(2):  # the second step has memories in its prompts
                obs = world.observe(step, feed_len=0 if step else 4)  # and then empty feeds
                behavior.decide(obs, rng)
                behavior.drain_records()
    return sorted(r.content or b"" for r in transport.sent if r.url.endswith("/completions"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("compact", [False, True])
def test_decision_requests_send_the_bytes_they_sent_before_templates(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, compact: bool,
) -> None:
    with_templates = _bodies(world, tmp_path, mode, compact, True, monkeypatch)
    without = _bodies(world, tmp_path, mode, compact, False, monkeypatch)
    assert len(with_templates) == 2 * world.population.n
    assert with_templates == without
    assert all(body == canonical_json(json.loads(body)) for body in with_templates)

