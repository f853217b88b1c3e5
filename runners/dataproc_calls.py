"""How each Dataproc API call is retried and bounded in time.

Each call keeps the client library's own retry (what it retries, its backoff and deadline, from
dataproc_v1/services/*/transports/base.py `_prep_wrapped_messages`) and also retries 429 and 503 answers and
dropped or timed-out connections; each attempt has a timeout, including the batch calls, which have none by
default. Retrying a submit is safe: it carries one request id, and Dataproc answers a repeated request id
with what the first request created.
"""

from dataclasses import dataclass
from typing import Any

import requests
from google.api_core import exceptions, retry

CALL_TIMEOUT_S = 60.0  # one attempt of one call; the retry deadline bounds all attempts together
_RETRYABLE_TOO = (
    exceptions.TooManyRequests,
    exceptions.ServiceUnavailable,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.Timeout,
)
_IDEMPOTENT = (exceptions.DeadlineExceeded, exceptions.InternalServerError, exceptions.ServiceUnavailable)


@dataclass(frozen=True)
class Default:
    """A method's default retry in the client library: what it retries, and for how long in all."""

    retried: tuple[type[Exception], ...]
    deadline_s: float | None


# The library's defaults (google-cloud-dataproc 5.x; GetOperation: google-api-core's operations_v1
# transports/base.py); tests/test_dataproc_calls.py checks them against the installed clients. The batch
# methods have no default retry or timeout.
DEFAULTS = {
    "submit_job": Default((exceptions.ServiceUnavailable,), 900.0),
    "get_job": Default(_IDEMPOTENT, 900.0),
    "cancel_job": Default(_IDEMPOTENT, 900.0),
    "create_cluster": Default((exceptions.ServiceUnavailable,), 300.0),
    "get_cluster": Default(_IDEMPOTENT, 300.0),
    "create_batch": Default((), None),
    "get_batch": Default((), None),
    "get_operation": Default((exceptions.ServiceUnavailable,), 10.0),
}
DEADLINE_S = 900.0  # retry deadline of the methods that have none by default


def call_options(method: str, timeout_s: float = CALL_TIMEOUT_S) -> dict[str, Any]:
    """`retry` and `timeout` keyword arguments for one call of `method`."""
    default = DEFAULTS[method]
    policy = retry.Retry(
        predicate=retry.if_exception_type(*default.retried, *_RETRYABLE_TOO),
        initial=0.1,
        maximum=60.0,
        multiplier=1.3,
        timeout=default.deadline_s or DEADLINE_S,
    )
    return {"retry": policy, "timeout": timeout_s}
