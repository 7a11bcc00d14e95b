// Worker thread of store-rows.ts: turns byte ranges of the outcome store into canonical rows.
import { parentPort } from 'node:worker_threads';
import { parseRange, type RangeJob } from './store-rows.js';

parentPort!.on('message', (job: RangeJob) => {
  parseRange(job, true).then(
    (result) => parentPort!.postMessage(result),
    (e: unknown) => {
      // An unreadable range fails the whole scan: rethrown in the main thread via 'error'.
      setImmediate(() => {
        throw e;
      });
    },
  );
});
