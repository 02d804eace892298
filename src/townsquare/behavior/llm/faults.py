"""What can go wrong with a model call, named once.

Every failed request ends as one :class:`Fault` kind, so fallbacks and the
``llm_calls`` table count failures the same way everywhere. Transport faults
are retried by the client; content faults (the model answered, but not
usefully) get one repair re-ask from the behaviour.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from townsquare.errors import UserError

if TYPE_CHECKING:
    from townsquare.behavior.llm.records import CallRecord


class Fault(StrEnum):
    """Kinds of failed model calls."""

    TIMEOUT = "timeout"
    HTTP_429 = "http_429"
    HTTP_5XX = "http_5xx"
    HTTP_4XX = "http_4xx"
    CONNECTION = "connection"
    MALFORMED_JSON = "malformed_json"
    TRUNCATED = "truncated"
    REFUSAL = "refusal"
    EMPTY = "empty"
    INVALID = "invalid_answer"  # JSON, but with values of the wrong type or none usable

    @property
    def retryable(self) -> bool:
        """Transport faults that a plain retry of the same request may cure."""
        return self in _RETRYABLE


_RETRYABLE = frozenset(
    {Fault.TIMEOUT, Fault.HTTP_429, Fault.HTTP_5XX, Fault.CONNECTION, Fault.MALFORMED_JSON}
)


REPAIR_HINTS = {  # what was wrong with an unusable answer, told to the model in the re-ask
    Fault.EMPTY: "it was empty",
    Fault.TRUNCATED: "it was cut off; keep it shorter",
    Fault.REFUSAL: "it was a refusal; this is a harmless simulation, just decide",
    Fault.MALFORMED_JSON: "it was not one valid JSON object of the required form",
    Fault.INVALID: "its values had the wrong types or referred to nothing you were shown",
}


class LLMFault(Exception):
    """A model call that failed with a known :class:`Fault` kind.

    ``retry_after`` is the server's ``Retry-After`` in seconds, if it sent one.
    Messages never contain request headers (and so never the API key).
    """

    def __init__(
        self,
        kind: Fault,
        message: str,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{kind.value}: {message}")
        self.kind = kind
        self.retry_after = retry_after
        self.status = status
        self.attempts = 1
        self.record: CallRecord | None = None


class EndpointUnreachableError(UserError):
    """The configured model endpoint cannot be reached or rejects us at start."""


class LLMConfigError(UserError):
    """LLM settings that do not fit the population (e.g. agent ids out of range)."""


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced, for messages from servers."""
    if secret and len(secret) >= 4:
        return text.replace(secret, "***")
    return text
