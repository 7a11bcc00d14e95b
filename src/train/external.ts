// The `external` trainer: any command (an sklearn or xgboost pipeline) trains on the prepared
// split files and writes an ONNX model. The tool then checks the model's input contract and
// re-evaluates it with onnxruntime; the metrics the command reports are kept for comparison only.
//
// Layout of the work directory:
//   <workDir>/data/train.csv, valid.csv, test.csv
//       header: the feature names in schema order, then `label`; one row per record; values are
//       float32 numbers written in their shortest round-trip form; label is 1 (success) or 0.
//       RFC 4180 quoting for names that need it, LF line ends, UTF-8.
//   <workDir>/data/meta.json   features, rows per split, seed, schema version, the ONNX contract
//   <workDir>/out/             empty at start; the command must write model.onnx and metrics.json
//
// Environment of the command (besides the caller's):
//   MLOPS_TRAIN_DIR   <workDir>/data           MLOPS_OUT_DIR      <workDir>/out
//   MLOPS_TRAIN_FILE, MLOPS_VALID_FILE, MLOPS_TEST_FILE   the three CSV paths
//   MLOPS_META        <workDir>/data/meta.json
//   MLOPS_FEATURES    JSON array of the feature names   MLOPS_N_FEATURES   their count
//   MLOPS_SEED        the seed                          MLOPS_SCHEMA_VERSION
//
// The model must take one float32 input [N, MLOPS_N_FEATURES] (columns in header order) and give
// `probability` float32 [N, 1] (a [N, 2] class-probability output is accepted, column 1 is read).
import { spawn } from 'node:child_process';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MlopsError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import type { LabeledMatrix } from './matrix.js';
import { checkShape, countPositives } from './matrix.js';
import type { Metrics } from './metrics.js';
import { evaluateOnnx } from './evaluate.js';
import { loadOnnxModel } from './onnx-model.js';
import { ONNX_OUTPUT } from './onnx-export.js';

export interface ExternalSplits {
  train: LabeledMatrix;
  valid: LabeledMatrix;
  test: LabeledMatrix;
}

export interface RunExternalTrainerOptions {
  /** Run through /bin/sh -c in workDir. */
  command: string;
  workDir: string;
  splits: ExternalSplits;
  featureNames: readonly string[];
  schemaVersion?: string;
  seed?: number;
  /** Default one hour. */
  timeoutMs?: number;
  /** Extra environment for the command. */
  env?: Record<string, string>;
  /** Each line the command prints (stdout and stderr), e.g. for the CLI to show progress. */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Grace period between SIGTERM and SIGKILL of the command's process group at the timeout. */
  killGraceMs?: number;
}

export interface ExternalTrainerResult {
  onnx: Uint8Array;
  /** Metrics on the test split, computed here with onnxruntime. */
  metrics: Metrics;
  /** What the command wrote in metrics.json (not trusted; for comparison). */
  reportedMetrics: Record<string, unknown>;
  durationMs: number;
  stdoutTail: string;
  stderrTail: string;
}

export const EXTERNAL_FILES = {
  train: 'train.csv',
  valid: 'valid.csv',
  test: 'test.csv',
  meta: 'meta.json',
  model: 'model.onnx',
  metrics: 'metrics.json',
} as const;

const TAIL_BYTES = 4096;

export async function runExternalTrainer(opts: RunExternalTrainerOptions): Promise<ExternalTrainerResult> {
  const { command, workDir, splits, featureNames, schemaVersion = '', seed = 0, timeoutMs = 3_600_000 } = opts;
  const f = featureNames.length;
  for (const [name, m] of Object.entries(splits) as [string, LabeledMatrix][]) {
    checkShape(m, name);
    if (m.f !== f) {
      throw new MlopsError('ONNX_CONTRACT_MISMATCH', `The ${name} split has ${m.f} features, the schema ${f}`, {
        hint: 'Featurize every split with the schema given to the external trainer',
      });
    }
  }
  const dataDir = join(workDir, 'data');
  const outDir = join(workDir, 'out');
  const paths = {
    train: join(dataDir, EXTERNAL_FILES.train),
    valid: join(dataDir, EXTERNAL_FILES.valid),
    test: join(dataDir, EXTERNAL_FILES.test),
    meta: join(dataDir, EXTERNAL_FILES.meta),
  };
  // Fresh folders: a model left by an earlier run must never pass for this run's output.
  await rm(dataDir, { recursive: true, force: true });
  await rm(outDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  await mkdir(outDir, { recursive: true });
  await writeSplitCsv(paths.train, splits.train, featureNames);
  await writeSplitCsv(paths.valid, splits.valid, featureNames);
  await writeSplitCsv(paths.test, splits.test, featureNames);
  await writeFileAtomic(paths.meta, `${JSON.stringify(splitsMeta(splits, featureNames, schemaVersion, seed), null, 2)}\n`);

  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...(opts.env ?? {}),
    MLOPS_TRAIN_DIR: dataDir,
    MLOPS_OUT_DIR: outDir,
    MLOPS_TRAIN_FILE: paths.train,
    MLOPS_VALID_FILE: paths.valid,
    MLOPS_TEST_FILE: paths.test,
    MLOPS_META: paths.meta,
    MLOPS_FEATURES: JSON.stringify(featureNames),
    MLOPS_N_FEATURES: String(f),
    MLOPS_SEED: String(seed),
    MLOPS_SCHEMA_VERSION: schemaVersion,
  };
  const started = Date.now();
  const run = await runCommand(command, workDir, env, timeoutMs, opts.killGraceMs ?? 2000, opts.onOutput);
  const durationMs = Date.now() - started;
  if (run.timedOut) {
    throw new MlopsError('TRAINER_TIMEOUT', `The external trainer did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`, {
      hint: 'Raise train.external.timeout_seconds in mlops.config.json, or make the trainer faster',
      data: { command, stderrTail: run.stderrTail },
    });
  }
  if (run.code !== 0) {
    const how = run.signal ? `was killed by ${run.signal}` : `exited with status ${run.code}`;
    throw new MlopsError('TRAINER_FAILED', `The external trainer ${how}${tailForMessage(run.stderrTail)}`, {
      hint: `Run the command by hand with the MLOPS_* variables set to see the whole error: ${command}`,
      data: { command, exitCode: run.code, signal: run.signal, stderrTail: run.stderrTail },
    });
  }

  const modelPath = join(outDir, EXTERNAL_FILES.model);
  const metricsPath = join(outDir, EXTERNAL_FILES.metrics);
  const [onnx, metricsText] = await Promise.all([readOptional(modelPath), readOptional(metricsPath)]);
  const missing = [onnx ? null : EXTERNAL_FILES.model, metricsText ? null : EXTERNAL_FILES.metrics].filter(Boolean);
  if (missing.length > 0) {
    throw new MlopsError('TRAINER_FAILED', `The external trainer exited 0 but did not write ${missing.join(' and ')} in MLOPS_OUT_DIR${tailForMessage(run.stderrTail)}`, {
      hint: 'The command must write $MLOPS_OUT_DIR/model.onnx and $MLOPS_OUT_DIR/metrics.json',
      data: { command, missing },
    });
  }
  let reportedMetrics: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(metricsText!.toString('utf8'));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    reportedMetrics = parsed as Record<string, unknown>;
  } catch (e) {
    throw new MlopsError('TRAINER_FAILED', `The external trainer's metrics.json is not a JSON object: ${(e as Error).message}`, {
      hint: 'Write metrics.json as an object, e.g. {"auc": 0.87, "log_loss": 0.41}',
      cause: e,
    });
  }
  const bytes = new Uint8Array(onnx!.buffer, onnx!.byteOffset, onnx!.byteLength);
  const scorer = await loadOnnxModel(bytes, { expectFeatureNames: featureNames, label: "the external trainer's model.onnx" });
  try {
    const { metrics } = await evaluateOnnx({ model: scorer, data: splits.test });
    return { onnx: bytes, metrics, reportedMetrics, durationMs, stdoutTail: run.stdoutTail, stderrTail: run.stderrTail };
  } finally {
    await scorer.close();
  }
}

/** meta.json of the prepared splits. */
export function splitsMeta(splits: ExternalSplits, featureNames: readonly string[], schemaVersion: string, seed: number): Record<string, unknown> {
  const rows = (m: LabeledMatrix): { rows: number; positives: number } => ({ rows: m.n, positives: countPositives(m.y) });
  return {
    format: 'mlops-splits/v1',
    schema_version: schemaVersion,
    seed,
    features: featureNames,
    n_features: featureNames.length,
    label: 'label',
    files: { train: EXTERNAL_FILES.train, valid: EXTERNAL_FILES.valid, test: EXTERNAL_FILES.test },
    splits: { train: rows(splits.train), valid: rows(splits.valid), test: rows(splits.test) },
    output: {
      model: EXTERNAL_FILES.model,
      metrics: EXTERNAL_FILES.metrics,
      contract: { input: { dtype: 'float32', shape: ['N', featureNames.length] }, output: { name: ONNX_OUTPUT, dtype: 'float32', shape: ['N', 1] } },
    },
  };
}

/** One split as CSV: feature columns then `label`, streamed in chunks (memory stays bounded). */
export async function writeSplitCsv(path: string, m: LabeledMatrix, featureNames: readonly string[]): Promise<void> {
  const fh = await open(path, 'w');
  try {
    const header = [...featureNames, 'label'].map(csvField).join(',');
    let buf = `${header}\n`;
    const { X, f, y } = m;
    for (let i = 0, k = 0; i < m.n; i++) {
      let line = '';
      for (let j = 0; j < f; j++, k++) line += `${formatFloat32(X[k])},`;
      buf += `${line}${y[i]}\n`;
      if (buf.length > 1 << 20) {
        await fh.write(buf);
        buf = '';
      }
    }
    await fh.write(buf);
  } finally {
    await fh.close();
  }
}

/** Shortest decimal that reads back (as float32) to exactly v. */
export function formatFloat32(v: number): string {
  if (Number.isInteger(v)) return Object.is(v, -0) ? '0' : String(v);
  for (let p = 6; p < 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return String(s);
  }
  return String(Number(v.toPrecision(9)));
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function readOptional(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function tailForMessage(tail: string): string {
  const lines = tail.trimEnd().split('\n').slice(-5).join('\n');
  return lines ? `:\n${lines}` : '';
}

interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdoutTail: string;
  stderrTail: string;
}

/** Runs the command in its own process group, so that a timeout stops it and everything it started. */
function runCommand(
  command: string,
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number,
  graceMs: number,
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const tails = { stdout: '', stderr: '' };
    const partial = { stdout: '', stderr: '' };
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].setEncoding('utf8');
      child[stream].on('data', (chunk: string) => {
        tails[stream] = (tails[stream] + chunk).slice(-TAIL_BYTES);
        if (onOutput) {
          const lines = (partial[stream] + chunk).split('\n');
          partial[stream] = lines.pop() ?? '';
          for (const line of lines) onOutput(line, stream);
        }
      });
    }
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), graceMs);
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      reject(new MlopsError('TRAINER_FAILED', `Cannot start the external trainer: ${e.message}`, { hint: 'Check that /bin/sh exists', cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      if (onOutput) for (const stream of ['stdout', 'stderr'] as const) if (partial[stream]) onOutput(partial[stream], stream);
      // Children the command left behind must not outlive it.
      if (!timedOut) killGroup('SIGKILL');
      resolve({ code, signal, timedOut, stdoutTail: tails.stdout, stderrTail: tails.stderr });
    });
  });
}
