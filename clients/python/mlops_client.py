"""Python client for mlops: canary routing, the dataset split, outcome reporting and predictions.

Standard library only, Python 3.8 or later. The routing and split functions reproduce mlops's
(SPEC 6.4 and 6.2) bit for bit; ``clients/vectors/*.json`` are the shared test vectors.

    from mlops_client import OutcomeClient, route

    route("backlink-success", "v1.3.0", 0.1, "example.org")        # 'canary' or 'production'
    client = OutcomeClient("http://127.0.0.1:8080", token="...")
    client.report({"task_id": "t-1", "domain": "example.org", ...})
"""

import datetime
import hashlib
import json
import math
import os
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

__all__ = [
    "BUCKETS",
    "bucket_of",
    "canary_buckets",
    "route",
    "route_deployments",
    "routing_key_of",
    "split_bucket",
    "split_of",
    "MlopsClientError",
    "OutcomeClient",
    "FeedbackCollector",
    "get_feedback_collector",
]

__version__ = "0.1.0"

#: Number of routing buckets; a weight w gives the canary round(w * 10000) of them.
BUCKETS = 10000


def _utf8(text: str) -> bytes:
    """UTF-8 bytes as Node.js produces them: a lone surrogate becomes U+FFFD (EF BF BD)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Round-trip through UTF-16: paired surrogates join into one code point (as in
        # JavaScript), lone ones are replaced.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode("utf-8")


def _first_u32(data: bytes) -> int:
    return int.from_bytes(hashlib.sha256(data).digest()[:4], "big")


def bucket_of(model: str, canary_version: str, key: str) -> int:
    """The key's bucket in [0, 10000): SHA-256 of "<model>:<canary version>:<key>", first 4 bytes
    big-endian, mod 10000."""
    return _first_u32(_utf8("%s:%s:%s" % (model, canary_version, key))) % BUCKETS


def canary_buckets(weight: float) -> int:
    """round(weight * 10000) with halves rounded up, as JavaScript's Math.round does.

    Python's round() rounds halves to even (round(0.5) == 0, round(1234.5) == 1234) and would
    route differently from the server at such weights, so it is not used.
    """
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0 or weight > 1:
        raise ValueError("canary weight must be a number between 0 and 1, got %r" % (weight,))
    x = float(weight) * BUCKETS
    f = math.floor(x)
    # x - f is exact in binary floating point, so the comparison with 0.5 is too.
    return int(f) + 1 if x - f >= 0.5 else int(f)


def route(model: str, canary_version: str, weight: float, key: str) -> str:
    """'canary' or 'production' for this routing key (SPEC 6.4)."""
    return "canary" if bucket_of(model, canary_version, key) < canary_buckets(weight) else "production"


def route_deployments(deployments: Dict[str, Any], key: str) -> Tuple[str, str, Optional[int]]:
    """(version, route, bucket) for a parsed deployments.yaml, like ``mlops route M --key K``.

    Without a canary production serves every key (bucket None); a canary without production
    serves every key.
    """
    model = deployments["model"]
    production = deployments.get("production")
    canary = deployments.get("canary")
    if not canary:
        if production is None:
            raise MlopsClientError("no version of model %s serves: production and canary are both null" % model, code="NO_PRODUCTION")
        return production, "production", None
    bucket = bucket_of(model, canary["version"], key)
    if production is None or bucket < canary_buckets(canary["weight"]):
        return canary["version"], "canary", bucket
    return production, "production", bucket


def routing_key_of(record: Dict[str, Any]) -> str:
    """The routing key of a request: its ``key``, else its domain, else its task_id."""
    for field in ("key", "domain", "task_id"):
        value = record.get(field)
        if isinstance(value, str) and value != "":
            return value
    raise ValueError("the request has no routing key: no key, domain or task_id")


def split_bucket(task_id: str) -> int:
    """First 4 bytes of SHA-256("split:" + task_id), big-endian, mod 100 (SPEC 6.2)."""
    return _first_u32(_utf8("split:" + task_id)) % 100


def split_of(task_id: str) -> str:
    """'train' (bucket < 80), 'validation' (< 90) or 'test': the split a record always lands in."""
    b = split_bucket(task_id)
    return "train" if b < 80 else "validation" if b < 90 else "test"


class MlopsClientError(Exception):
    """A request that failed for good: after its retries, or with a non-retryable status.

    ``status`` is the HTTP status (None for connection failures and timeouts), ``code`` the
    server's error code (for example OUTCOME_INVALID) when it sent one.
    """

    def __init__(self, message: str, status: Optional[int] = None, code: Optional[str] = None, body: Any = None, attempts: int = 0):
        super().__init__(message)
        self.status = status
        self.code = code
        self.body = body
        self.attempts = attempts


# Statuses worth another try: the server or something in front of it was briefly unable.
_RETRY_STATUSES = frozenset([408, 425, 429, 500, 502, 503, 504])


class OutcomeClient:
    """Reports outcomes to ``POST /v1/outcomes`` and asks for predictions.

    Retries connection failures, timeouts and 408/425/429/5xx answers with exponential backoff
    and jitter (honouring Retry-After). Reporting is safe to retry: the server counts a task_id
    once, so a record whose acknowledgement was lost is not counted twice.

    :param base_url: where ``mlops serve`` listens, e.g. ``http://127.0.0.1:8080``
    :param token: bearer token (the server's MLOPS_TOKEN), or None
    :param timeout: seconds per attempt (connect and each read)
    :param retries: further attempts after the first
    :param backoff: first delay in seconds, doubled each retry, capped at ``max_backoff``
    """

    def __init__(
        self,
        base_url: str,
        token: Optional[str] = None,
        timeout: float = 10.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: Optional[random.Random] = None,
    ):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://, got %r" % (base_url,))
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._rng = rng or random.Random()

    def report(self, record: Dict[str, Any]) -> Any:
        """Sends one outcome record (SPEC 4 fields) as JSON; returns the server's answer."""
        return self._request("POST", "/v1/outcomes", _json_bytes(record), "application/json")

    def report_batch(self, records: Iterable[Dict[str, Any]]) -> Any:
        """Sends outcome records as one NDJSON body; returns the server's answer."""
        body = b"".join(_json_bytes(r) + b"\n" for r in records)
        if not body:
            return {"accepted": 0}
        return self._request("POST", "/v1/outcomes", body, "application/x-ndjson")

    def predict(self, model: str, records: Union[Dict[str, Any], List[Dict[str, Any]]]) -> Any:
        """Predictions for one raw record (a dict) or a batch (a list), from
        ``POST /v1/models/<model>/predict``: probability, version and route per record."""
        path = "/v1/models/%s/predict" % urllib.parse.quote(model, safe="")
        return self._request("POST", path, _json_bytes(records), "application/json")

    # -- plumbing --

    def _delay(self, attempt: int, retry_after: Optional[str]) -> float:
        if retry_after:
            try:
                return min(self.max_backoff, max(0.0, float(retry_after)))
            except ValueError:
                pass  # an HTTP date: fall back to our own schedule
        base = min(self.max_backoff, self.backoff * (2 ** attempt))
        # "Equal jitter": half fixed, half random, so a fleet of workers does not retry in step.
        return base / 2 + self._rng.random() * base / 2

    def _request(self, method: str, path: str, body: bytes, content_type: str) -> Any:
        url = self.base_url + path
        headers = {"content-type": content_type, "accept": "application/json", "user-agent": "mlops-client-python/" + __version__}
        if self.token:
            headers["authorization"] = "Bearer " + self.token
        last: Optional[MlopsClientError] = None
        for attempt in range(self.retries + 1):
            retry_after = None
            req = urllib.request.Request(url, data=body, headers=headers, method=method)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as res:
                    return _decode(res.read(), res.headers.get("content-type", ""))
            except urllib.error.HTTPError as e:
                payload = _decode(e.read(), e.headers.get("content-type", "") if e.headers else "")
                err = payload.get("error") if isinstance(payload, dict) else None
                code = err.get("code") if isinstance(err, dict) else None
                message = err.get("message") if isinstance(err, dict) else None
                last = MlopsClientError(
                    "%s %s answered HTTP %d%s" % (method, path, e.code, ": %s" % message if message else ""),
                    status=e.code, code=code, body=payload, attempts=attempt + 1,
                )
                if e.code not in _RETRY_STATUSES:
                    raise last
                retry_after = e.headers.get("retry-after") if e.headers else None
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as e:
                reason = getattr(e, "reason", e)
                what = "timed out after %gs" % self.timeout if isinstance(reason, (socket.timeout, TimeoutError)) else "failed: %s" % (reason,)
                last = MlopsClientError("%s %s %s" % (method, url, what), attempts=attempt + 1)
            if attempt < self.retries:
                self._sleep(self._delay(attempt, retry_after))
        assert last is not None
        last.args = ("%s (gave up after %d attempts)" % (last.args[0], last.attempts),)
        raise last


def _json_bytes(value: Any) -> bytes:
    try:
        # allow_nan=False: NaN and Infinity are not JSON; the server would reject the record.
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError, TypeError) as e:
        raise MlopsClientError("record cannot be sent as JSON: %s" % (e,), code="OUTCOME_INVALID")


def _decode(raw: bytes, content_type: str) -> Any:
    text = raw.decode("utf-8", "replace")
    if "json" in content_type or text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def _now_iso() -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


class FeedbackCollector:
    """The original design's ``feedback_collector`` for workers: ``append_outcome(...)`` with
    the same keyword arguments, sent to mlops instead of a local file.

        feedback_collector = get_feedback_collector()
        feedback_collector.append_outcome(
            task_id=task_id, domain=domain, action_attempted=task_type,
            result=result.get('success'), failure_reason=result.get('failure_reason'),
            execution_time=execution_time, model_version=prediction['version'],
            response_time_ms=prediction_ms, domain_authority=42,   # extra keywords -> features
        )
    """

    _FIELDS = ("task_id", "domain", "url", "action_attempted", "result", "failure_reason", "execution_time", "model", "model_version", "response_time_ms", "timestamp")

    def __init__(self, client: OutcomeClient, model: Optional[str] = None):
        self.client = client
        self.model = model

    def outcome_record(self, **fields: Any) -> Dict[str, Any]:
        """The SPEC 4 record for these keyword arguments (unknown keywords become features)."""
        record: Dict[str, Any] = {}
        features: Dict[str, Any] = dict(fields.pop("features", None) or {})
        for k, v in fields.items():
            if k in self._FIELDS:
                record[k] = v
            else:
                features[k] = v
        if "model" not in record and self.model:
            record["model"] = self.model
        record.setdefault("timestamp", _now_iso())
        record["features"] = features
        return record

    def append_outcome(self, **fields: Any) -> Any:
        """Reports one outcome; returns once the server acknowledged it (it is then durable)."""
        return self.client.report(self.outcome_record(**fields))

    def append_outcomes(self, outcomes: Iterable[Dict[str, Any]]) -> Any:
        """Reports several outcomes (each a dict of append_outcome's keywords) in one request."""
        return self.client.report_batch(self.outcome_record(**o) for o in outcomes)


def get_feedback_collector(base_url: Optional[str] = None, token: Optional[str] = None, model: Optional[str] = None, **client_options: Any) -> FeedbackCollector:
    """A FeedbackCollector for ``base_url`` (default: the MLOPS_URL variable) with ``token``
    (default: MLOPS_TOKEN) and the default ``model`` (default: MLOPS_MODEL)."""
    url = base_url or os.environ.get("MLOPS_URL")
    if not url:
        raise ValueError("pass base_url or set MLOPS_URL to where `mlops serve` listens, e.g. http://127.0.0.1:8080")
    return FeedbackCollector(
        OutcomeClient(url, token=token if token is not None else os.environ.get("MLOPS_TOKEN"), **client_options),
        model=model or os.environ.get("MLOPS_MODEL"),
    )
