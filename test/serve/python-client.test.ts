// The Python workers' client (clients/python, standard library only) against the real server:
// reports through the original design's feedback_collector, predictions, errors, and routing
// computed in Python equal to the server's.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startServer } from '../../src/serve/server.js';
import { readOutcomesPage } from '../../src/data/outcome-store.js';
import { M, record, repoTemplate, twoVersionRepo } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const present = existsSync(PYTHON);
if (!present) console.warn(`skipping the Python client test: ${PYTHON} is not installed`);

const two = repoTemplate((t) => twoVersionRepo(0.5, t));
afterAll(() => two.remove());

const SCRIPT = `
import json, os, sys
from mlops_client import OutcomeClient, MlopsClientError, get_feedback_collector, route_deployments, routing_key_of
out = {}
fc = get_feedback_collector(retries=0)
out["one"] = fc.append_outcome(task_id="py-1", domain="example.org", action_attempted="blog_comment",
    result=True, failure_reason=None, execution_time=12.5, model_version="v1.1.0", response_time_ms=3.1,
    domain_authority=42)
out["batch"] = fc.append_outcomes([
    dict(task_id="py-2", domain="a.org", action_attempted="guest_post", result="error", model_version="v1.0.0"),
    dict(task_id="py-3", domain="b.org", action_attempted="guest_post", result=False, model_version="v1.0.0"),
])
client = OutcomeClient(os.environ["MLOPS_URL"], token=os.environ["MLOPS_TOKEN"], retries=0)
recs = json.loads(sys.argv[1])
out["single"] = client.predict("${M}", recs[0])
out["many"] = client.predict("${M}", recs)
dep = {"model": "${M}", "production": "v1.0.0", "canary": {"version": "v1.1.0", "weight": 0.5}}
out["routes"] = [list(route_deployments(dep, routing_key_of(r))) for r in recs]
try:
    client.report({"task_id": "py-4", "result": "maybe"})
except MlopsClientError as e:
    out["error"] = {"status": e.status, "code": e.code}
try:
    OutcomeClient(os.environ["MLOPS_URL"], token="wrong", retries=0).report({"task_id": "x"})
except MlopsClientError as e:
    out["auth"] = {"status": e.status, "code": e.code}
print(json.dumps(out))
`;

function python(env: Record<string, string>, arg: string): Promise<any> {
  return new Promise((resolvePy, reject) => {
    execFile(PYTHON, ['-c', SCRIPT, arg], { env: { ...process.env, ...env, PYTHONPATH: resolve('clients/python') }, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      resolvePy(JSON.parse(stdout));
    });
  });
}

describe.skipIf(!present)('the Python client against mlops serve', () => {
  it('reports outcomes, asks for predictions and routes keys exactly as the server does', async () => {
    const t = await two.clone();
    const s = await startServer({ dir: t.dir, token: 'py-token', pollIntervalMs: 0, watch: false });
    try {
      const recs = Array.from({ length: 20 }, (_, i) => record(i, { key: `py-key-${i}` }));
      const out = await python({ MLOPS_URL: s.url, MLOPS_TOKEN: 'py-token', MLOPS_MODEL: M }, JSON.stringify(recs));
      expect(out.one).toEqual({ accepted: 1 });
      expect(out.batch).toEqual({ accepted: 2 });
      expect(out.single).toMatchObject({ model: M, version: expect.stringMatching(/^v1\.[01]\.0$/) });
      expect(out.many.predictions).toHaveLength(20);
      // route() in Python gives the version, route and bucket the server used for each key.
      out.many.predictions.forEach((p: { version: string; route: string; bucket: number }, i: number) => {
        expect([p.version, p.route, p.bucket]).toEqual(out.routes[i]);
      });
      expect(out.error).toEqual({ status: 400, code: 'OUTCOME_INVALID' });
      expect(out.auth).toEqual({ status: 401, code: 'UNAUTHORIZED' });
      const stored = (await readOutcomesPage({ dir: t.dir })).records;
      expect(stored.map((r) => r.task_id)).toEqual(['py-1', 'py-2', 'py-3']);
      expect(stored[0]).toMatchObject({ result: 'success', model: M, model_version: 'v1.1.0', features: { domain_authority: 42 } });
    } finally {
      await s.close();
    }
  });
});
