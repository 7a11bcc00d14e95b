// The histogram kernel of the gbdt trainer as a tiny WebAssembly function, assembled below from
// its opcodes (no toolchain, no binary blob). Building gradient histograms is nearly all of the
// training time; in WebAssembly the loop runs about twice as fast as the same loop in JavaScript
// (no bounds checks, one SIMD add for the gradient and hessian sums), and it adds in the same order, so results are identical.
//
// Memory layout (one WebAssembly.Memory, allocated once per training run):
//   rows  u32[n]        row indices, partitioned by the tree grower in place
//   codes u8[n*stride]  row-major bin codes, stride = f rounded up to 4 (read as 32-bit words)
//   gh    f64[2n]       gradient and hessian of each row, interleaved
//   hist  f64[stride*maxBins*3]   scratch histogram: per feature, per bin: Σg, Σh, count

// The project compiles without the DOM lib, which is where TypeScript keeps the WebAssembly
// types: the little this file uses is declared here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
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
}

export function createHistKernel(n: number, stride: number, maxBins: number): HistKernel {
  if (stride % 4 !== 0) throw new Error('histogram kernel: the row stride must be a multiple of 4');
  const histFloats = stride * maxBins * 3;
  let offset = 0;
  const alloc = (bytes: number): number => {
    const at = offset;
    offset += Math.ceil(bytes / 8) * 8;
    return at;
  };
  const rowsAt = alloc(4 * n);
  const codesAt = alloc(n * stride);
  const ghAt = alloc(16 * n);
  const histAt = alloc(8 * histFloats);
  const memory = new wasm.Memory({ initial: Math.max(1, Math.ceil(offset / 65536)) });
  const instance = new wasm.Instance(kernelModule(), { env: { mem: memory } });
  const run = instance.exports.hist as (...args: number[]) => void;
  const buf = memory.buffer;
  const scratch = new Float64Array(buf, histAt, histFloats);
  const featureBytes = maxBins * 24;
  return {
    rows: new Uint32Array(buf, rowsAt, n),
    codes: new Uint8Array(buf, codesAt, n * stride),
    gh: new Float64Array(buf, ghAt, 2 * n),
    build(out, start, end) {
      scratch.fill(0);
      if (end > start) run(rowsAt, start, end, codesAt, stride, ghAt, histAt, featureBytes, stride >>> 2);
      out.set(scratch);
    },
  };
}

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
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, 0x01]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('hist'), 0x00, 0]])),
    ...section(10, vec([[...uleb(func.length), ...func]])),
  ]);
}
