"""A fake Dataproc REST endpoint on 127.0.0.1: just the routes the runners call, with every request recorded.

Jobs and batches walk PENDING -> RUNNING -> their outcome over successive GETs. Tests choose the outcome,
inject 429/503 answers (in order, or per HTTP method) or slow answers, and seed existing jobs. Every submit
and creation is checked against the API's documented rules first (tests/fake_dataproc_rules.py) and a
violation is answered 400 INVALID_ARGUMENT with a BadRequest, as the service answers. Job ids are unique
within the project (a job of another region is not found here, yet its id is taken); a request id seen
before returns what the first request created. A cluster creation is a long-running operation that ends
with the cluster RUNNING, or with `cluster_create_error`.
"""

import http.server
import json
import re
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from tests.fake_dataproc_rules import violations

_JOB = re.compile(
    r"^/v1/projects/(?P<project>[^/]+)/regions/(?P<region>[^/]+)/jobs"
    r"(?::submit|/(?P<id>[^/:]+)(?P<cancel>:cancel)?)$"
)
_OPERATION = re.compile(
    r"^/v1/projects/(?P<project>[^/]+)/regions/(?P<region>[^/]+)/operations/(?P<id>[^/]+)$"
)
_BATCH = re.compile(
    r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/batches(?:/(?P<id>[^/]+))?$"
)
_CLUSTER = re.compile(
    r"^/v1/projects/(?P<project>[^/]+)/regions/(?P<region>[^/]+)/clusters(?:/(?P<name>[^/]+))?$"
)
_REASONS = {
    400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
}  # fmt: skip
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any


@dataclass
class Resource:
    """A job or batch: the states it will report, one per GET, the last one repeating."""

    states: list[str]
    details: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    running_seen: int = 0  # RUNNING reports so far: a cluster job's YARN progress grows with them
    region: str | None = None  # a job's region (None: whichever region asks, for seeded jobs)

    def next_state(self) -> str:
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        self.running_seen += state == "RUNNING"
        return state


class FakeDataproc:
    """Context manager; `url` is the api_endpoint to give the clients."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.jobs: dict[str, Resource] = {}
        self.clusters: dict[str, Resource] = {}  # a created cluster reports CREATING, then RUNNING
        self.batches: dict[str, Resource] = {}
        self.outcome: tuple[str, str] | None = None  # (final state, details); None: DONE / SUCCEEDED
        self.faults: list[int] = []  # HTTP codes answered (one per request) before serving normally
        # Per method, one entry per request of that method: an HTTP code to answer with, or None to serve.
        self.faults_on: dict[str, list[int | None]] = {}
        self.delays_on: dict[str, list[float]] = {}  # per method, seconds to wait before each answer
        self.driver_output_uri = ""
        self.running_polls = 1  # GETs that report RUNNING before a new job or batch ends
        self.request_ids: dict[str, dict[str, Any]] = {}  # request id -> the answer of its first request
        self.operations: dict[str, dict[str, Any]] = {}  # cluster-creation operations, by id
        # (gRPC code, message) a cluster creation's operation ends with; None: the cluster comes up
        self.cluster_create_error: tuple[int, str] | None = None
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def submissions(self) -> list[Recorded]:
        """Job submits and batch creations (cluster creations and job cancels are not submissions)."""
        return [
            r for r in self.requests
            if r.method == "POST" and (r.path.endswith(":submit") or _BATCH.match(r.path))
        ]  # fmt: skip

    def cancels(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith(":cancel")]

    def cluster_creations(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and _CLUSTER.match(r.path)]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _job(self, ident: str, resource: Resource, project: str, region: str) -> dict[str, Any]:
        state = resource.next_state()
        yarn = (
            {
                "yarnApplications": [
                    {"name": "spark-job", "state": "RUNNING", "progress": resource.running_seen / 10}
                ]
            }
            if state == "RUNNING"
            else {}
        )
        return {
            **yarn,
            **resource.body,
            "reference": {"projectId": project, "jobId": ident},
            "status": {
                "state": state,
                "details": resource.details if state in ("ERROR", "CANCELLED") else "",
            },
            "driverOutputResourceUri": self.driver_output_uri,
        }

    def _batch(self, ident: str, resource: Resource, project: str, region: str) -> dict[str, Any]:
        state = resource.next_state()
        return {
            **resource.body,
            "name": f"projects/{project}/locations/{region}/batches/{ident}",
            "state": state,
            "stateMessage": resource.details if state in ("FAILED", "CANCELLED") else "",
        }

    def _cluster(self, name: str, resource: Resource, project: str) -> dict[str, Any]:
        state = resource.next_state()
        return {
            **resource.body,
            "projectId": project,
            "clusterName": name,
            "status": {"state": state, "detail": resource.details if state.startswith("ERROR") else ""},
        }

    def _new(self, body: dict[str, Any], success: str) -> Resource:
        final, details = self.outcome or (success, "")
        states = ["PENDING", *["RUNNING"] * self.running_polls, final]
        return Resource(states=states, details=details, body=body)

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _send(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, code: int, message: str, details: list[dict[str, Any]] | None = None) -> None:
                error = {"code": code, "message": message, "status": _REASONS[code]}
                self._send(code, {"error": {**error, **({"details": details} if details else {})}})

            def _refused(self, method: str, query: dict[str, list[str]], body: Any) -> bool:
                """Answer 400 INVALID_ARGUMENT (and return True) when the request breaks a documented rule."""
                found = violations(method, query, body)
                if found:
                    message = "; ".join(violation["description"] for violation in found)
                    self._error(400, message, [{"@type": _BAD_REQUEST, "fieldViolations": found}])
                return bool(found)

            def _record(self) -> tuple[str, dict[str, list[str]], Any]:
                parsed = urllib.parse.urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                query = urllib.parse.parse_qs(parsed.query)
                fake.requests.append(Recorded(self.command, parsed.path, query, body))
                return parsed.path, query, body

            def _injected(self) -> int | None:
                delays = fake.delays_on.get(self.command)
                if delays:
                    time.sleep(delays.pop(0))
                if fake.faults:
                    return fake.faults.pop(0)
                planned = fake.faults_on.get(self.command)
                return planned.pop(0) if planned else None

            def do_GET(self) -> None:
                path, _, _ = self._record()
                if code := self._injected():
                    return self._error(code, "injected")
                if (match := _JOB.match(path)) and match["id"] and not match["cancel"]:
                    found = fake.jobs.get(match["id"])
                    if found is not None and found.region not in (None, match["region"]):
                        found = None  # the id is taken in the project, but the job is in another region
                    render = fake._job
                    store = "job"
                elif match := _OPERATION.match(path):
                    operation = fake.operations.get(match["id"])
                    if operation is None:
                        return self._error(404, f"operation {match['id']} not found")
                    return self._send(200, operation)
                elif (match := _BATCH.match(path)) and match["id"]:
                    found = fake.batches.get(match["id"])
                    render = fake._batch
                    store = "batch"
                elif (match := _CLUSTER.match(path)) and match["name"]:
                    cluster = fake.clusters.get(match["name"])
                    if cluster is None:
                        return self._error(404, f"cluster {match['name']} not found")
                    return self._send(200, fake._cluster(match["name"], cluster, match["project"]))
                else:
                    return self._error(404, f"no route {path}")
                if found is None:
                    return self._error(404, f"{store} {match['id']} not found")
                return self._send(200, render(match["id"], found, match["project"], match["region"]))

            def do_POST(self) -> None:
                path, query, body = self._record()
                if code := self._injected():
                    return self._error(code, "injected")
                if (match := _JOB.match(path)) and path.endswith(":submit"):
                    return self._submit_job(match, body)
                if (match := _JOB.match(path)) and match["cancel"]:
                    return self._cancel_job(match)
                if (match := _CLUSTER.match(path)) and not match["name"]:
                    return self._create_cluster(match, query, body)
                if match := _BATCH.match(path):
                    return self._create_batch(match, query, body)
                return self._error(404, f"no route {path}")

            def _submit_job(self, match: re.Match[str], body: Any) -> None:
                if self._refused("submit_job", {}, body):
                    return None
                request_id = body.get("requestId")
                if request_id in fake.request_ids:  # "the second request will be ignored"
                    return self._send(200, fake.request_ids[request_id])
                ident = body["job"].get("reference", {}).get("jobId") or uuid.uuid4().hex
                if ident in fake.jobs:  # job ids are unique within the project, whatever the region
                    return self._error(409, f"Already exists: Failed to submit job: Job {ident}")
                fake.jobs[ident] = fake._new(body["job"], "DONE")
                fake.jobs[ident].region = match["region"]
                answer = fake._job(ident, fake.jobs[ident], match["project"], match["region"])
                if request_id:
                    fake.request_ids[request_id] = answer
                return self._send(200, answer)

            def _cancel_job(self, match: re.Match[str]) -> None:
                job = fake.jobs.get(match["id"])
                if job is None or job.region not in (None, match["region"]):
                    return self._error(404, f"job {match['id']} not found")
                job.states = ["CANCELLED"]
                job.details = "Job cancelled by request"
                return self._send(200, fake._job(match["id"], job, match["project"], match["region"]))

            def _create_cluster(self, match: re.Match[str], query: dict[str, list[str]], body: Any) -> None:
                if self._refused("create_cluster", query, body):
                    return None
                request_id = query.get("requestId", [None])[0]
                if request_id in fake.request_ids:
                    return self._send(200, fake.request_ids[request_id])
                name = body["clusterName"]
                if name in fake.clusters:
                    return self._error(409, f"Already exists: Failed to create cluster: Cluster {name}")
                ident = uuid.uuid4().hex
                operation = {
                    "name": f"projects/{match['project']}/regions/{match['region']}/operations/{ident}",
                    "done": False,
                }
                if fake.cluster_create_error:
                    code, message = fake.cluster_create_error
                    fake.clusters[name] = Resource(states=["CREATING"], body=body)
                    fake.operations[ident] = {
                        **operation, "done": True, "error": {"code": code, "message": message},
                    }  # fmt: skip
                else:
                    fake.clusters[name] = Resource(states=["CREATING", "RUNNING"], body=body)
                    fake.operations[ident] = operation
                if request_id:
                    fake.request_ids[request_id] = operation
                return self._send(200, operation)

            def _create_batch(self, match: re.Match[str], query: dict[str, list[str]], body: Any) -> None:
                if self._refused("create_batch", query, body):
                    return None
                request_id = query.get("requestId", [None])[0]
                if request_id in fake.request_ids:  # "the second request is ignored"
                    return self._send(200, fake.request_ids[request_id])
                ident = query.get("batchId", [None])[0] or uuid.uuid4().hex
                if ident in fake.batches:
                    return self._error(409, f"Already exists: Batch {ident}")
                fake.batches[ident] = fake._new(body, "SUCCEEDED")
                name = f"projects/{match['project']}/regions/{match['region']}/operations/{ident}"
                operation = {"name": name, "done": False}
                if request_id:
                    fake.request_ids[request_id] = operation
                return self._send(200, operation)

        return Handler
