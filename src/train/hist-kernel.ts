// The histogram kernel of the gbdt trainer as a tiny WebAssembly function, assembled below from
// its opcodes (no toolchain, no binary blob). Building gradient histograms is nearly all of the
// training time; in WebAssembly the loop runs about twice as fast as the same loop in JavaScript
// (no bounds checks, one SIMD add for the gradient and hessian sums), and it adds in the same order, so results are identical.
//
// Memory layout (one shared WebAssembly.Memory, allocated once per training run):
//   rows  u32[n]        row indices, partitioned by the tree grower in place
//   codes u8[n*stride]  row-major bin codes, stride = f rounded up to 4 (read as 32-bit words)
//   gh    f64[2n]       gradient and hessian of each row, interleaved
//   2 x   f64[stride*maxBins*3]   partial histograms: per feature, per bin: Σg, Σh, count
//         (plus a spare one, used if the helper thread ever fails)
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

// The project compiles without the DOM lib, which is where TypeScript keeps the WebAssembly
// types: the little this file uses is declared here.
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface HistKernel {
  rows: Uint32Array;
  codes: Uint8Array;
  /** Gradient and hessian of row i at 2i and 2i + 1 (one 16-byte SIMD load). */
  gh: Float64Array;
  /** Histogram of rows[start, end) written into `out` (length stride * maxBins * 3). */
  build(out: Float64Array, start: number, end: number): void;
  /** Threads actually building histograms (1 or 2). */
  readonly threads: number;
  /** Stops the helper thread; the kernel must not be used afterwards. */
  close(): Promise<void>;
}

export interface HistKernelOptions {
  /** 1 or 2 (default: 2 when the machine has two cores or more). Results do not depend on it. */
  threads?: number;
}

/** Below this many rows a node's two halves are summed on the calling thread (no hand-off). */
const PARALLEL_MIN_ROWS = 16_384;
/** How long to wait for the helper before summing its half here instead. */
const HELPER_TIMEOUT_MS = 60_000;

// Control words shared with the helper thread.
const C_SEQ = 0;
const C_STOP = 1;
const C_ARGS = 2; // 9 kernel arguments
const C_DONE = 11;

/**
 * Every histogram is the sum of two partial histograms, over the first and the second half of
 * the node's rows, added in that order: the helper thread sums one half while the caller sums the
 * other, and with one thread (or a small node) the caller sums both. The arithmetic is the same
 * either way, so the model does not depend on the number of cores.
 */
export function createHistKernel(n: number, stride: number, maxBins: number, options: HistKernelOptions = {}): HistKernel {
  if (stride % 4 !== 0) throw new Error('histogram kernel: the row stride must be a multiple of 4');
  const histFloats = stride * maxBins * 3;
  let offset = 0;
  const alloc = (bytes: number): number => {
    const at = offset;
    offset += Math.ceil(bytes / 16) * 16;
    return at;
  };
  const rowsAt = alloc(4 * n);
  const codesAt = alloc(n * stride);
  const ghAt = alloc(16 * n);
  const halfAt = [alloc(8 * histFloats), alloc(8 * histFloats)];
  const spareAt = alloc(8 * histFloats);
  const pages = Math.max(1, Math.ceil(offset / 65536));
  const wanted = options.threads ?? (availableParallelism() > 1 ? 2 : 1);
  const threads = wanted >= 2 && n >= PARALLEL_MIN_ROWS ? 2 : 1;
  const memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
  const module = kernelModule();
  const instance = new wasm.Instance(module, { env: { mem: memory } });
  const run = instance.exports.hist as (...args: number[]) => void;
  const buf = memory.buffer;
  const halves = halfAt.map((at) => new Float64Array(buf, at, histFloats));
  const featureBytes = maxBins * 24;
  const args = (start: number, end: number, histAt: number): number[] => [rowsAt, start, end, codesAt, stride, ghAt, histAt, featureBytes, stride >>> 2];
  const sumHalf = (h: number, start: number, end: number): void => {
    halves[h].fill(0);
    if (end > start) run(...args(start, end, halfAt[h]));
  };

  let helper: HelperThread | null = threads === 2 ? startHelper(module, memory) : null;
  return {
    rows: new Uint32Array(buf, rowsAt, n),
    codes: new Uint8Array(buf, codesAt, n * stride),
    gh: new Float64Array(buf, ghAt, 2 * n),
    threads,
    build(out, start, end) {
      const mid = start + Math.floor((end - start) / 2);
      if (helper && end - start >= PARALLEL_MIN_ROWS) {
        halves[1].fill(0);
        const ticket = helper.start(args(mid, end, halfAt[1]));
        sumHalf(0, start, mid);
        if (!helper.wait(ticket)) {
          // The helper is gone or stuck: stop using it and sum its half here, in the spare buffer
          // (the helper might still write into its own).
          void helper.stop();
          helper = null;
          halfAt[1] = spareAt;
          halves[1] = new Float64Array(buf, spareAt, histFloats);
          sumHalf(1, mid, end);
        }
      } else {
        sumHalf(0, start, mid);
        sumHalf(1, mid, end);
      }
      const a = halves[0];
      const b = halves[1];
      for (let k = 0; k < histFloats; k++) out[k] = a[k] + b[k];
    },
    async close() {
      const h = helper;
      helper = null;
      if (h) await h.stop();
    },
  };
}

interface HelperThread {
  start(args: number[]): number;
  /** True once the helper finished the given ticket; false after the timeout. */
  wait(ticket: number): boolean;
  stop(): Promise<void>;
}

function startHelper(module: object, memory: WasmMemory): HelperThread {
  const control = new Int32Array(new SharedArrayBuffer(16 * 4));
  const worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { module, memory, control: control.buffer } });
  worker.unref();
  // A crashed helper shows up as a timeout in wait(); nothing to do with the event itself.
  worker.on('error', () => undefined);
  let seq = 0;
  return {
    start(args) {
      for (let k = 0; k < args.length; k++) control[C_ARGS + k] = args[k];
      seq = Atomics.add(control, C_SEQ, 1) + 1;
      Atomics.notify(control, C_SEQ);
      return seq;
    },
    wait(ticket) {
      const deadline = Date.now() + HELPER_TIMEOUT_MS;
      for (;;) {
        const done = Atomics.load(control, C_DONE);
        if (done === ticket) return true;
        const left = deadline - Date.now();
        if (left <= 0) return false;
        Atomics.wait(control, C_DONE, done, left);
      }
    },
    async stop() {
      Atomics.store(control, C_STOP, 1);
      Atomics.add(control, C_SEQ, 1);
      Atomics.notify(control, C_SEQ);
      await worker.terminate();
    },
  };
}

// The helper runs the same compiled module on the same shared memory, one call per ticket.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory } = workerData;
const control = new Int32Array(workerData.control);
const run = new WebAssembly.Instance(module, { env: { mem: memory } }).exports.hist;
let seen = 0;
for (;;) {
  Atomics.wait(control, ${C_SEQ}, seen);
  seen = Atomics.load(control, ${C_SEQ});
  if (Atomics.load(control, ${C_STOP}) === 1) break;
  const a = control.subarray(${C_ARGS}, ${C_ARGS + 9});
  run(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]);
  Atomics.store(control, ${C_DONE}, seen);
  Atomics.notify(control, ${C_DONE});
}
`;

let compiled: object | undefined;

function kernelModule(): object {
  compiled ??= new wasm.Module(assembleKernel());
  return compiled;
}

// Opcodes and encodings used (WebAssembly 1.0 binary format).
const I32 = 0x7f;
const V128 = 0x7b;
const OP = {
  block: 0x02,
  loop: 0x03,
  brIf: 0x0d,
  end: 0x0b,
  get: 0x20,
  set: 0x21,
  tee: 0x22,
  i32Load: 0x28,
  f64Load: 0x2b,
  f64Store: 0x39,
  i32Const: 0x41,
  f64Const: 0x44,
  i32LtU: 0x49,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  f64Add: 0xa0,
} as const;
const VOID = 0x40;
// SIMD instructions: prefix 0xfd, then the opcode as LEB128.
const SIMD = { load: [0xfd, 0x00], store: [0xfd, 0x0b], f64x2Add: [0xfd, 0xf0, 0x01] };

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const name = (s: string): number[] => [...uleb(s.length), ...new TextEncoder().encode(s)];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/**
 * hist(rows, k, end, codes, rowStride, gh, hist, featureBytes, wordsPerRow):
 *   for k in [k, end): i = rows[k]; v = (g, h) = f64x2 at gh + 16·i
 *     for each 32-bit word of row i's codes, for each of its 4 bytes b (feature 4w + b):
 *       q = hist + feature * featureBytes + code * 24
 *       f64x2[q] += v (Σg and Σh in one SIMD add); f64[q + 16] += 1
 * Each lane adds in the same order as a scalar loop would, so the sums are identical.
 */
export function assembleKernel(): Uint8Array {
  // Parameters 0..8, then locals.
  const P = { rows: 0, k: 1, end: 2, codes: 3, rowStride: 4, gh: 5, hist: 6, fb: 7, words: 8 };
  const L = { i: 9, w: 10, o: 11, word: 12, q: 13, left: 14, fb2: 15, fb3: 16, v: 17 };
  const get = (x: number): number[] => [OP.get, x];
  const set = (x: number): number[] => [OP.set, x];
  const tee = (x: number): number[] => [OP.tee, x];
  const c = (v: number): number[] => [OP.i32Const, ...sleb(v)];
  const mem = (op: number[], align: number, off: number): number[] => [...op, align, ...uleb(off)];
  const f64One = [OP.f64Const, ...new Uint8Array(new Float64Array([1]).buffer)];
  const featureOffset = [[], [...get(P.fb), OP.i32Add], [...get(L.fb2), OP.i32Add], [...get(L.fb3), OP.i32Add]];
  const perByte = (b: number): number[] => [
    ...get(L.o),
    ...featureOffset[b],
    ...get(L.word),
    ...(b > 0 ? [...c(8 * b), OP.i32ShrU] : []),
    ...(b < 3 ? [...c(255), OP.i32And] : []),
    ...c(24),
    OP.i32Mul,
    OP.i32Add,
    ...set(L.q),
    ...get(L.q), ...get(L.q), ...mem(SIMD.load, 3, 0), ...get(L.v), ...SIMD.f64x2Add, ...mem(SIMD.store, 3, 0),
    ...get(L.q), ...get(L.q), ...mem([OP.f64Load], 3, 16), ...f64One, OP.f64Add, ...mem([OP.f64Store], 3, 16),
  ];
  const body = [
    ...get(P.fb), ...c(1), OP.i32Shl, ...set(L.fb2),
    ...get(L.fb2), ...get(P.fb), OP.i32Add, ...set(L.fb3),
    OP.block, VOID,
    ...get(P.k), ...get(P.end), OP.i32GeU, OP.brIf, 0,
    OP.loop, VOID,
    ...get(P.rows), ...get(P.k), ...c(2), OP.i32Shl, OP.i32Add, ...mem([OP.i32Load], 2, 0), ...set(L.i),
    ...get(P.gh), ...get(L.i), ...c(4), OP.i32Shl, OP.i32Add, ...mem(SIMD.load, 3, 0), ...set(L.v),
    ...get(P.codes), ...get(L.i), ...get(P.rowStride), OP.i32Mul, OP.i32Add, ...set(L.w),
    ...get(P.hist), ...set(L.o),
    ...get(P.words), ...set(L.left),
    OP.loop, VOID,
    ...get(L.w), ...mem([OP.i32Load], 2, 0), ...set(L.word),
    ...perByte(0), ...perByte(1), ...perByte(2), ...perByte(3),
    ...get(L.o), ...get(P.fb), ...c(2), OP.i32Shl, OP.i32Add, ...set(L.o),
    ...get(L.w), ...c(4), OP.i32Add, ...set(L.w),
    ...get(L.left), ...c(1), OP.i32Sub, ...tee(L.left), OP.brIf, 0,
    OP.end,
    ...get(P.k), ...c(1), OP.i32Add, ...tee(P.k), ...get(P.end), OP.i32LtU, OP.brIf, 0,
    OP.end,
    OP.end,
    OP.end,
  ];
  const func = [...vec([[...uleb(8), I32], [...uleb(1), V128]]), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec(Array.from({ length: 9 }, () => [I32])), 0]])),
    // Imported memory, shared (flags 0x03: shared, with a maximum) so a helper thread can use it.
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x03, ...uleb(0), ...uleb(65536)]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('hist'), 0x00, 0]])),
    ...section(10, vec([[...uleb(func.length), ...func]])),
  ]);
}
