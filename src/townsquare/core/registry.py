"""Registries: how environments, recommenders and classic models plug in.

Nothing lists them by hand elsewhere. The scenario's ``[environment]`` and
``[behavior]`` unions, the reference sections and the recommender names a feed
mix accepts are all read from these registries, so a new environment (or a
recommender, or a classic model) is one package that registers itself, and a
test can register a toy one without editing anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from townsquare.core.metric import MetricKind

Entry = TypeVar("Entry")


class Registry(Generic[Entry]):
    """Named entries, and the callbacks to run when one is added."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, Entry] = {}
        self._watchers: list[Callable[[], None]] = []

    def add(self, name: str, entry: Entry) -> Entry:
        """Register ``entry`` under ``name``; registering the same name again replaces it."""
        self._entries[name] = entry
        for watcher in self._watchers:
            watcher()
        return entry

    def remove(self, name: str) -> None:
        """Forget ``name`` (a test's toy entry, when the test is done)."""
        if self._entries.pop(name, None) is not None:
            for watcher in self._watchers:
                watcher()

    def watch(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every change (e.g. to rebuild a pydantic union)."""
        self._watchers.append(callback)

    def __getitem__(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries))
            raise KeyError(f"unknown {self.what} '{name}' (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def values(self) -> list[Entry]:
        return list(self._entries.values())


@dataclass(frozen=True)
class EnvironmentEntry:
    """An environment selected by ``[environment] kind = ...``.

    ``config`` is a pydantic model whose ``kind`` field is ``Literal[kind]``.
    ``build(config, parts)`` returns ``(environment, behavior)`` from the parts of
    the world already built (:class:`townsquare.world.WorldParts`: scenario,
    population, graph, streams, the social platform and social behaviour).
    ``sections`` are extra (title, model) pairs for the scenario reference.
    """

    kind: str
    config: type
    build: Callable[[Any, Any], tuple[Any, Any]]
    sections: tuple[tuple[str, type], ...] = ()


@dataclass(frozen=True)
class ClassicModelEntry:
    """A classic model selected by ``[behavior] model = ...``.

    ``build(config)`` returns the model (``initial``/``step``/``settled``, see
    environments/contagion/models.py). ``statuses`` names the status codes (index =
    code), counted as metrics each step; ``adopted`` is the code of an agent that
    took up the contagion (it reposts its source's post), None for an opinion model
    (its opinions are snapshotted instead).
    """

    name: str
    config: type
    build: Callable[[Any], Any]
    statuses: tuple[str, ...] = ()
    adopted: int | None = None


ENVIRONMENTS: Registry[EnvironmentEntry] = Registry("environment kind")
CLASSIC_MODELS: Registry[ClassicModelEntry] = Registry("behavior model")
RECOMMENDERS: Registry[Callable[..., Any]] = Registry("recommender")
"""Recommender name -> scorer ``(context, candidates) -> scores`` (see social/feeds.py)."""


def register_environment(kind: str, config: type, build: Callable[[Any, Any], tuple[Any, Any]],
                         sections: tuple[tuple[str, type], ...] = ()) -> EnvironmentEntry:
    """Make ``[environment] kind = "<kind>"`` valid in a scenario, and runnable."""
    return ENVIRONMENTS.add(kind, EnvironmentEntry(kind, config, build, sections))


def register_classic_model(name: str, config: type, build: Callable[[Any], Any], *,
                           statuses: tuple[str, ...] = (),
                           adopted: int | None = None) -> ClassicModelEntry:
    """Make ``[behavior] model = "<name>"`` valid in a scenario, and runnable."""
    return CLASSIC_MODELS.add(name, ClassicModelEntry(name, config, build, statuses, adopted))


def register_recommender(name: str, scorer: Callable[..., Any]) -> Callable[..., Any]:
    """Make ``name`` usable in ``platform.feed.mix`` (and an intervention's mix)."""
    return RECOMMENDERS.add(name, scorer)


METRIC_KINDS: Registry[MetricKind] = Registry("metric kind")
"""Kind name -> the definition of a family of metrics (core/metric.py)."""


def register_metric_kind(kind: MetricKind) -> MetricKind:
    """Say how the metrics named by ``kind`` combine in a step and sum up over a run."""
    return METRIC_KINDS.add(kind.kind, kind)


def metric_kind(name: str) -> MetricKind | None:
    """The kind listing ``name`` exactly, else the one with its longest prefix; None if none."""
    best, length = None, -1
    for kind in METRIC_KINDS.values():
        if name in kind.names:
            return kind
        for prefix in kind.prefixes:
            if name.startswith(prefix) and len(prefix) > length:
                best, length = kind, len(prefix)
    return best
