// The anchor of the serving benchmarks: the least a prediction server can do with the same model.
// node:http + onnxruntime-node, one version, no routing, no input checks, no metrics, no reload:
// read the body, JSON.parse, featurize with the version's fitted state, one session.run, answer.
//   node bench/serve-anchor-server.mjs <version folder> <schema file> [port]
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { featurize, parseFeatureSchema, parseFittedState } from '../dist/data/features.js';

const [versionDir, schemaPath, port = '0'] = process.argv.slice(2);
const schema = parseFeatureSchema(readFileSync(schemaPath, 'utf8'));
const state = parseFittedState(readFileSync(join(versionDir, 'features.json'), 'utf8'), schema);
const session = await ort.InferenceSession.create(readFileSync(join(versionDir, 'model.onnx')), { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
const input = session.inputNames[0];

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const record = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const x = featurize(schema, state, record);
      const out = await session.run({ [input]: new ort.Tensor('float32', x, [1, x.length]) });
      const body = JSON.stringify({ probability: out.probability.data[0] });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } catch (e) {
      res.writeHead(400).end(String(e));
    }
  });
});
server.listen(Number(port), '127.0.0.1', () => console.log(`listening http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
