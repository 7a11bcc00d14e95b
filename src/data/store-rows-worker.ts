// Worker thread of store-rows.ts: turns byte ranges of the outcome store into canonical rows.
import { parentPort } from 'node:worker_threads';
import { parseRange, toMessage, type RangeJob } from './store-rows.js';

parentPort!.on('message', (job: RangeJob) => {
  parseRange(job).then(
    (chunk) => {
      // The row bytes and arrays move to the main thread without a copy.
      const { message, transfer } = toMessage(chunk);
      parentPort!.postMessage(message, transfer);
    },
    (e: unknown) => {
      // An unreadable range fails the whole scan: rethrown in the main thread via 'error'.
      setImmediate(() => {
        throw e;
      });
    },
  );
});
