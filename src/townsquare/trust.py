"""What a run folder may make townsquare do when it is resumed or interviewed.

A run folder can come from anyone (a colleague, a download, an edited copy), and
the scenario stored in its database is just text in that folder. Resuming or
interviewing a run re-executes that scenario, so its *side effects outside the
simulation* are checked first:

* **LLM endpoints.** A stored ``[llm]`` table names URLs to send requests to and
  the environment variables whose values are sent as API keys (and ``[distributed]``
  a Ray cluster and shard servers). Nothing is sent
  and no key variable is read unless the user confirms it for this run
  (``--trust-endpoint``, ``trust_endpoint=True``); without it the endpoints are
  shown and the command refuses.
* **Files written.** The response cache is written only inside the run folder or
  the user's cache directory, unless the user names a path themselves
  (``--set llm.cache_path=...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from townsquare.behavior.llm.config import LLMConfig
from townsquare.cache_dir import user_cache_dir
from townsquare.distributed.config import DistributedConfig
from townsquare.errors import UserError


class UntrustedRunError(UserError):
    """A stored setting would act outside the run before the user confirmed it."""


def check_endpoints(llm: LLMConfig | None, run_name: str, *, trust_endpoint: bool,
                    distributed: DistributedConfig | None = None) -> None:
    """Refuse, showing them, the stored endpoints and key variables unless the user trusts them.

    With LLM agents, the ``[distributed]`` table's Ray cluster and shard servers are
    endpoints too (a Ray client exchanges pickled objects with its cluster).
    """
    if llm is None or trust_endpoint:
        return
    lines = [f"  - {m.base_url} (model '{m.model}'"
             + (f", API key from ${m.api_key_env})" if m.api_key_env else ", no API key)")
             for m in llm.models]
    if distributed is not None:
        if distributed.ray_address:
            lines.append(f"  - Ray cluster {distributed.ray_address}")
        lines += [f"  - shard {i}: {', '.join(urls)}"
                  for i, urls in enumerate(distributed.llm_shards)]
    raise UntrustedRunError(
        f"run {run_name} asks to send LLM requests to:\n" + "\n".join(lines) + "\n"
        "These settings come from the run folder, which anyone could have written. "
        "Nothing was sent and no key was read. If you trust them, repeat with "
        "--trust-endpoint (Python: trust_endpoint=True).")


def cache_is_allowed(llm: LLMConfig, run_dir: Path) -> bool:
    """Whether the response cache file lies in the run folder or the user's cache directory."""
    if not llm.cache or llm.cache_path is None:
        return True
    target = llm.cache_path.expanduser().resolve()
    return any(target.is_relative_to(root.resolve())
               for root in (Path(run_dir), user_cache_dir()))


def check_stored_llm(llm: LLMConfig | None, run_dir: Path, run_name: str, *,
                     trust_endpoint: bool, overrides: dict[str, Any] | None = None,
                     distributed: DistributedConfig | None = None) -> None:
    """Before a resume: confirmed endpoints, and a cache file the user may have written."""
    check_endpoints(llm, run_name, trust_endpoint=trust_endpoint, distributed=distributed)
    chosen = "llm.cache_path" in (overrides or {})
    if llm is not None and not chosen and not cache_is_allowed(llm, run_dir):
        raise UntrustedRunError(
            f"run {run_name} asks to write its LLM response cache to {llm.cache_path}, "
            "outside the run folder and your cache directory. Nothing was written. "
            "Choose the file yourself with --set llm.cache_path=PATH (the same path "
            "replays the same answers).")
