// The embedded metric source: folds `.mlops/outcomes/*.jsonl` into the canary's streams, reading
// files and lines by the store's rules (src/data/outcome-store.ts: every *.jsonl in file-name
// order; complete lines only; over-long and non-UTF-8 lines skipped; a torn last line skipped and
// counted) but straight from 1 MiB byte buffers, with the fast scanner instead of a string and
// JSON.parse per line. Memory: one read buffer plus the aggregator's fingerprints (16 bytes per
// distinct in-window task id), whatever the size of the store.
import { open } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { MlopsError, isMlopsError } from '../errors.js';
import { OutcomeAggregator } from '../canary/aggregate.js';
import { listStoreFiles, outcomesDir } from '../data/outcome-store.js';
import { MAX_OUTCOME_LINE_BYTES } from '../data/outcome.js';
import { type LineMatcher, foldOutcomeLine, lineMatcher } from './scan-outcome-line.js';
import type { MetricSource, StreamsRequest, StreamsResult } from './source.js';

const READ_SIZE = 1 << 20;

export interface OutcomeSourceWarning {
  file: string;
  /** Byte offset of the skipped line. */
  offset: number;
  reason: 'invalid' | 'too_long' | 'not_utf8' | 'torn';
  message: string;
}

export interface OutcomeSourceOptions {
  /** The registry directory; the store is `<dir>/.mlops/outcomes/`. */
  dir: string;
  /** Called for each skipped line. */
  onWarning?: (w: OutcomeSourceWarning) => void;
  /**
   * Parse only lines containing the canary version's text (default: when no production series
   * is asked for). false: parse every line, so that `other` and `invalid` count every line.
   */
  prefilter?: boolean;
}

export function outcomeStoreSource(options: OutcomeSourceOptions): MetricSource {
  return {
    kind: 'outcomes',
    streams: (request) => readOutcomeStreams(options, request),
  };
}

interface LineStats {
  too_long: number;
  not_utf8: number;
}

export async function readOutcomeStreams(options: OutcomeSourceOptions, request: StreamsRequest): Promise<StreamsResult> {
  const agg = new OutcomeAggregator({
    model: request.model,
    version: request.version,
    production: request.production ?? null,
    startedAt: request.startedAt,
    at: request.at,
    bounds: { up: request.thresholds.canary.max_response_time_ms, down: request.thresholds.rollback.max_response_time_ms },
    quantile: request.quantile,
  });
  const matcher = lineMatcher(agg);
  // Without a production series only canary records matter, and a canary record's line contains
  // its version as a JSON string ("v1.3.0"): versions are ASCII digits and dots, which no JSON
  // writer escapes. Lines without that text are counted as other without being parsed; this
  // makes the decision's read several times faster. (A corrupt line without the text then
  // counts as other rather than invalid, and a task_id reported first under production and then
  // under the canary counts for the canary, since production records are not tracked.)
  const usePrefilter = options.prefilter ?? (request.production === null || request.production === undefined);
  const prefilter = usePrefilter ? Buffer.from(JSON.stringify(request.version), 'utf8') : null;
  const stats: LineStats = { too_long: 0, not_utf8: 0 };
  const buf = Buffer.allocUnsafe(READ_SIZE);
  try {
    for (const file of await listStoreFiles(options.dir)) {
      await foldFile(join(outcomesDir(options.dir), file), file, buf, matcher, prefilter, stats, options.onWarning);
    }
  } catch (cause) {
    if (isMlopsError(cause)) throw cause;
    throw new MlopsError('METRICS_SOURCE_FAILED', `cannot read the outcome store ${outcomesDir(options.dir)}: ${(cause as Error).message}`, {
      cause,
      hint: 'Check that .mlops/outcomes is readable.',
    });
  }
  const aggregate = agg.result();
  const { skipped } = aggregate;
  const warnings: string[] = [];
  if (skipped.invalid) warnings.push(`${skipped.invalid} invalid lines skipped (${stats.too_long} too long, ${stats.not_utf8} not UTF-8)`);
  if (skipped.torn) warnings.push(`${skipped.torn} store files end in a torn line (skipped; a write may be in progress)`);
  const future = skipped.canary.future + skipped.production.future;
  if (future) warnings.push(`${future} outcomes are timestamped after ${aggregate.at} and were ignored (clock skew?)`);
  const dup = skipped.canary.duplicate + skipped.production.duplicate;
  if (dup) warnings.push(`${dup} records repeat a task_id already counted (the first one counts)`);
  return {
    source: 'outcomes',
    ...aggregate.canary,
    ...(aggregate.production_streams ? { production: aggregate.production_streams } : {}),
    warnings,
    aggregate,
  };
}

/** Line feeds in buf[a, b). */
function countLines(buf: Buffer, a: number, b: number): number {
  let n = 0;
  for (let i = buf.indexOf(10, a); i >= 0 && i < b; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

async function foldFile(
  path: string,
  file: string,
  buf: Buffer,
  m: LineMatcher,
  prefilter: Buffer | null,
  stats: LineStats,
  onWarning?: (w: OutcomeSourceWarning) => void,
): Promise<void> {
  const fh = await open(path, 'r');
  try {
    // Read up to the size at open: lines appended meanwhile are for the next analysis.
    const size = (await fh.stat()).size;
    let pos = 0; // file offset of buf[0]
    let have = 0; // bytes in buf (a partial line carried over, then the new read)
    let skipping = false; // inside an over-long line: drop bytes until its LF
    let skipStart = 0;
    while (pos + have < size) {
      const { bytesRead } = await fh.read(buf, have, Math.min(buf.length - have, size - pos - have), pos + have);
      if (bytesRead === 0) break;
      const end = have + bytesRead;
      let i = 0;
      if (skipping) {
        const nl = buf.indexOf(10, 0);
        if (nl < 0 || nl >= end) {
          pos += end;
          have = 0;
          continue;
        }
        stats.too_long++;
        m.agg.countInvalid();
        onWarning?.({ file, offset: skipStart, reason: 'too_long', message: `line is longer than ${MAX_OUTCOME_LINE_BYTES} bytes` });
        skipping = false;
        i = nl + 1;
      }
      const lastNl = buf.lastIndexOf(10, end - 1);
      // One native UTF-8 check over all complete lines; lines are checked one by one only when it fails.
      const allUtf8 = lastNl >= i && isUtf8(buf.subarray(i, lastNl + 1));
      const foldLine = (start: number, nl: number) => {
        let e = nl;
        if (e > start && buf[e - 1] === 13) e--;
        if (nl + 1 - start > MAX_OUTCOME_LINE_BYTES) {
          stats.too_long++;
          m.agg.countInvalid();
          onWarning?.({ file, offset: pos + start, reason: 'too_long', message: `line is longer than ${MAX_OUTCOME_LINE_BYTES} bytes` });
        } else if (!allUtf8 && !isUtf8(buf.subarray(start, nl))) {
          stats.not_utf8++;
          m.agg.countInvalid();
          onWarning?.({ file, offset: pos + start, reason: 'not_utf8', message: 'line is not valid UTF-8' });
        } else if (!foldOutcomeLine(buf, start, e, m)) {
          onWarning?.({ file, offset: pos + start, reason: 'invalid', message: 'line is not a valid outcome record' });
        }
      };
      if (prefilter) {
        // Jump from one occurrence of the canary's version text to the next (a native search)
        // and fold only those lines; the lines in between are counted as other.
        let p = i;
        while (p <= lastNl) {
          const occ = buf.indexOf(prefilter, p);
          if (occ < 0 || occ > lastNl) {
            m.agg.countOther(countLines(buf, p, lastNl + 1));
            break;
          }
          const start = Math.max(p, buf.lastIndexOf(10, occ) + 1);
          m.agg.countOther(countLines(buf, p, start));
          const nl = buf.indexOf(10, occ);
          foldLine(start, nl);
          p = nl + 1;
        }
        if (lastNl >= i) i = lastNl + 1;
      } else {
        while (i <= lastNl) {
          const nl = buf.indexOf(10, i);
          foldLine(i, nl);
          i = nl + 1;
        }
      }
      // Carry the partial last line to the front of the buffer.
      const rest = end - i;
      if (rest >= MAX_OUTCOME_LINE_BYTES) {
        skipping = true;
        skipStart = pos + i;
        pos += end;
        have = 0;
      } else {
        if (rest > 0 && i > 0) buf.copy(buf, 0, i, end);
        pos += i;
        have = rest;
      }
    }
    if (skipping) {
      // An over-long line that never ended: torn as well as too long; report it once, as torn.
      have = 1;
      pos = skipStart;
    }
    if (have > 0) {
      m.agg.countTorn();
      onWarning?.({ file, offset: pos, reason: 'torn', message: `last ${size - pos} bytes have no line ending (torn or still being written)` });
    }
  } finally {
    await fh.close();
  }
}
