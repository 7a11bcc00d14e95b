"""Tests of mlops_client: the shared vectors, and the HTTP client against a local server.

Run from this folder: python3 -m unittest -v test_mlops_client
"""

import json
import os
import random
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mlops_client as mc

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "vectors")


def load(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)["vectors"]


class RoutingVectors(unittest.TestCase):
    def test_every_vector(self):
        vectors = load("routing.json")
        self.assertGreater(len(vectors), 50)
        for v in vectors:
            with self.subTest(key=v["key"][:40], weight=v["weight"]):
                self.assertEqual(mc.bucket_of(v["model"], v["canary_version"], v["key"]), v["bucket"])
                self.assertEqual(mc.canary_buckets(v["weight"]), v["threshold"])
                self.assertEqual(mc.route(v["model"], v["canary_version"], v["weight"], v["key"]), v["route"])

    def test_halves_round_up_unlike_python_round(self):
        self.assertEqual(mc.canary_buckets(0.00005), 1)  # round(0.5) == 0 in Python
        self.assertEqual(mc.canary_buckets(0.12345), 1235)  # round(1234.5) == 1234
        self.assertEqual(mc.canary_buckets(0.00015), 1)  # 1.4999999999999998 in doubles

    def test_rejects_bad_weights(self):
        for w in (-0.1, 1.5, float("nan"), float("inf"), "0.1", True):
            with self.subTest(weight=w), self.assertRaises(ValueError):
                mc.canary_buckets(w)

    def test_raising_the_weight_only_moves_keys_to_the_canary(self):
        rng = random.Random(5)
        for _ in range(300):
            key = "k%d" % rng.randrange(10 ** 9)
            lo, hi = sorted((rng.random(), rng.random()))
            if mc.route("m", "v1.0.0", lo, key) == "canary":
                self.assertEqual(mc.route("m", "v1.0.0", hi, key), "canary")

    def test_route_deployments(self):
        v = next(x for x in load("routing.json") if x.get("note") == "bucket 1000")
        d = {"model": "backlink-success", "production": "v1.2.0", "canary": {"version": "v1.3.0", "weight": 0.1}}
        self.assertEqual(mc.route_deployments(d, v["key"]), ("v1.2.0", "production", 1000))
        self.assertEqual(mc.route_deployments(dict(d, production=None), v["key"]), ("v1.3.0", "canary", 1000))
        self.assertEqual(mc.route_deployments(dict(d, canary=None), v["key"]), ("v1.2.0", "production", None))
        with self.assertRaises(mc.MlopsClientError):
            mc.route_deployments({"model": "m", "production": None, "canary": None}, "k")

    def test_routing_key_of(self):
        self.assertEqual(mc.routing_key_of({"key": "k", "domain": "d", "task_id": "t"}), "k")
        self.assertEqual(mc.routing_key_of({"key": "", "domain": "d"}), "d")
        self.assertEqual(mc.routing_key_of({"task_id": "t"}), "t")
        with self.assertRaises(ValueError):
            mc.routing_key_of({})


class SplitVectors(unittest.TestCase):
    def test_every_vector(self):
        for v in load("split.json"):
            with self.subTest(task_id=v["task_id"][:40]):
                self.assertEqual(mc.split_bucket(v["task_id"]), v["bucket"])
                self.assertEqual(mc.split_of(v["task_id"]), v["split"])


class Handler(BaseHTTPRequestHandler):
    """Answers from the server's script, recording every request."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        srv = self.server
        srv.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        step = srv.script.pop(0) if srv.script else (200, {"accepted": 1}, {})
        if step == "hang":
            srv.release.wait(10)  # held until the test ends: the client must time out first
            return
        status, payload, headers = step
        data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
        self.send_response(status)
        self.send_header("content-type", headers.pop("content-type", "application/json"))
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ClientTests(unittest.TestCase):
    def setUp(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.requests = []
        self.server.script = []
        self.server.release = threading.Event()
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.sleeps = []

    def tearDown(self):
        self.server.release.set()
        self.server.shutdown()
        self.server.server_close()

    def client(self, **kw):
        kw.setdefault("sleep", self.sleeps.append)
        kw.setdefault("rng", random.Random(1))
        return mc.OutcomeClient(self.url, **kw)

    def test_report_sends_json_with_bearer_auth(self):
        record = {"task_id": "t-1", "domain": "bücher.de", "action_attempted": "blog_comment", "result": "success", "timestamp": "2026-11-29T10:00:00Z"}
        self.assertEqual(self.client(token="s3cret").report(record), {"accepted": 1})
        req = self.server.requests[0]
        self.assertEqual(req["path"], "/v1/outcomes")
        self.assertEqual(req["headers"]["authorization"], "Bearer s3cret")
        self.assertEqual(req["headers"]["content-type"], "application/json")
        self.assertEqual(json.loads(req["body"].decode("utf-8")), record)

    def test_no_authorization_header_without_token(self):
        self.client().report({"task_id": "t"})
        self.assertNotIn("authorization", self.server.requests[0]["headers"])

    def test_report_batch_sends_ndjson(self):
        records = [{"task_id": "t-%d" % i, "result": "success"} for i in range(3)]
        self.client().report_batch(records)
        req = self.server.requests[0]
        self.assertEqual(req["headers"]["content-type"], "application/x-ndjson")
        lines = req["body"].decode().split("\n")
        self.assertEqual(lines[-1], "")
        self.assertEqual([json.loads(l) for l in lines[:-1]], records)

    def test_empty_batch_sends_nothing(self):
        self.assertEqual(self.client().report_batch([]), {"accepted": 0})
        self.assertEqual(self.server.requests, [])

    def test_retries_5xx_with_growing_backoff(self):
        self.server.script = [(503, {"error": {"code": "SERVE_FAILED"}}, {}), (502, b"bad gateway", {"content-type": "text/plain"}), (500, {}, {}), (200, {"accepted": 1}, {})]
        self.assertEqual(self.client(backoff=0.5).report({"task_id": "t"}), {"accepted": 1})
        self.assertEqual(len(self.server.requests), 4)
        self.assertEqual(len(self.sleeps), 3)
        # Equal jitter: each delay lies in [base/2, base] with base 0.5, 1, 2.
        for delay, base in zip(self.sleeps, (0.5, 1.0, 2.0)):
            self.assertGreaterEqual(delay, base / 2)
            self.assertLessEqual(delay, base)

    def test_honours_retry_after_capped(self):
        self.server.script = [(429, {}, {"retry-after": "3"}), (503, {}, {"retry-after": "3600"}), (200, {"ok": True}, {})]
        self.client(max_backoff=8).report({"task_id": "t"})
        self.assertEqual(self.sleeps, [3.0, 8.0])

    def test_gives_up_after_the_retries(self):
        self.server.script = [(503, {}, {})] * 3
        with self.assertRaises(mc.MlopsClientError) as cm:
            self.client(retries=2).report({"task_id": "t"})
        self.assertEqual(cm.exception.status, 503)
        self.assertEqual(cm.exception.attempts, 3)
        self.assertIn("gave up after 3 attempts", str(cm.exception))

    def test_does_not_retry_a_rejected_record(self):
        self.server.script = [(400, {"error": {"code": "OUTCOME_INVALID", "message": "/result: must be success, failure or error"}}, {})]
        with self.assertRaises(mc.MlopsClientError) as cm:
            self.client().report({"task_id": "t", "result": "maybe"})
        self.assertEqual((cm.exception.status, cm.exception.code), (400, "OUTCOME_INVALID"))
        self.assertIn("must be success", str(cm.exception))
        self.assertEqual(len(self.server.requests), 1)
        self.assertEqual(self.sleeps, [])

    def test_times_out_and_retries(self):
        self.server.script = ["hang", (200, {"accepted": 1}, {})]
        self.assertEqual(self.client(timeout=0.3).report({"task_id": "t"}), {"accepted": 1})
        self.assertEqual(len(self.sleeps), 1)

    def test_timeout_error_names_it(self):
        self.server.script = ["hang"]
        with self.assertRaises(mc.MlopsClientError) as cm:
            self.client(timeout=0.3, retries=0).report({"task_id": "t"})
        self.assertIn("timed out", str(cm.exception))
        self.assertIsNone(cm.exception.status)

    def test_connection_refused_is_retried_then_reported(self):
        self.tearDown()
        with self.assertRaises(mc.MlopsClientError) as cm:
            self.client(retries=2).report({"task_id": "t"})
        self.assertEqual(len(self.sleeps), 2)
        self.assertIn("failed", str(cm.exception))
        self.setUp()

    def test_rejects_records_that_are_not_json(self):
        with self.assertRaises(mc.MlopsClientError) as cm:
            self.client().report({"task_id": "t", "response_time_ms": float("nan")})
        self.assertEqual(cm.exception.code, "OUTCOME_INVALID")
        self.assertEqual(self.server.requests, [])

    def test_predict(self):
        answer = {"predictions": [{"probability": 0.8, "version": "v1.3.0", "route": "canary"}]}
        self.server.script = [(200, answer, {})]
        got = self.client(token="t").predict("backlink-success", [{"task_id": "t", "domain": "example.org"}])
        self.assertEqual(got, answer)
        req = self.server.requests[0]
        self.assertEqual(req["path"], "/v1/models/backlink-success/predict")
        self.assertEqual(json.loads(req["body"]), [{"task_id": "t", "domain": "example.org"}])

    def test_feedback_collector_maps_the_original_call(self):
        fc = mc.get_feedback_collector(self.url, token="tok", model="backlink-success", sleep=self.sleeps.append)
        fc.append_outcome(
            task_id="t-81723", domain="example.org", action_attempted="blog_comment", result=True,
            failure_reason=None, execution_time=12.4, model_version="v1.2.0", response_time_ms=3.1,
            domain_authority=42,
        )
        sent = json.loads(self.server.requests[0]["body"])
        self.assertEqual(sent["features"], {"domain_authority": 42})
        self.assertEqual(sent["model"], "backlink-success")
        self.assertIs(sent["result"], True)
        self.assertRegex(sent["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(self.server.requests[0]["headers"]["authorization"], "Bearer tok")

    def test_feedback_collector_needs_a_url(self):
        old = os.environ.pop("MLOPS_URL", None)
        try:
            with self.assertRaises(ValueError):
                mc.get_feedback_collector()
        finally:
            if old is not None:
                os.environ["MLOPS_URL"] = old


if __name__ == "__main__":
    unittest.main()
