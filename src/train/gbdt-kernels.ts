// The inner loops of the gbdt trainer as WebAssembly functions, assembled below from their
// opcodes (no toolchain, no binary blob): the gradient histogram of a node's rows (most of the
// training time), the partition of a node's rows at a split, the gradients and log-loss of the
// scores, and the addition of a leaf's value to its rows' scores. In WebAssembly these loops run
// two to three times as fast as the same loops in JavaScript (no bounds checks, SIMD, no
// mispredicted branches). The module is assembled for one training run's memory layout and
// feature count: every address that does not change from row to row is a constant offset of a
// load or a store, and the loop over the features is unrolled.

// The project compiles without the DOM lib, which is where TypeScript keeps the WebAssembly
// types: the little the trainer uses is declared here.
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
export interface WasmModule {
  readonly kind?: 'wasm-module';
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
}
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface GbdtKernels {
  /**
   * Adds the gradient, hessian and count of the rows at positions [start, end) of the u32 array
   * at rowsAt into the histogram at histAt: per feature, per bin Σg, Σh, count (f64 each).
   */
  hist(rowsAt: number, start: number, end: number, histAt: number): void;
  /** hist without the counts, for the root when every row is in it (its counts never change). */
  histSums(rowsAt: number, start: number, end: number, histAt: number): void;
  /**
   * Stable partition of rows[start, end) by "code <= bin" of the feature whose column of codes
   * is at columnAt: lefts stay at rows[start ...], rights go to tmp[start ...]. Returns the lefts.
   */
  partition(start: number, end: number, columnAt: number, bin: number): number;
  /** raw[rows[k]] += value for k in [start, end): a leaf's value added to its rows' scores. */
  addLeaf(start: number, end: number, value: number): void;
  /**
   * Log-loss gradients and hessians of training rows [start, end) at their raw scores, written to
   * gh. Returns the log-loss sum and the sums of the gradients and of the hessians.
   */
  gradients(start: number, end: number): [loss: number, g: number, h: number];
  /** The log-loss sum of validation rows [start, end). */
  validLoss(start: number, end: number): number;
}

export interface KernelShape {
  /** Features per row (the histogram reads the first f codes of each row). */
  f: number;
  /** Bytes from one row's codes to the next. */
  stride: number;
  /** Bins per feature in the histogram (its feature stride is maxBins * 3 floats). */
  maxBins: number;
  /** Byte offsets of the row-major codes, the (gradient, hessian) pairs and the two u32 row arrays. */
  codesAt: number;
  ghAt: number;
  rowsAt: number;
  tmpAt: number;
  /** Byte offsets of the f64 raw scores and u8 labels of the training and the validation rows. */
  rawAt: number;
  yAt: number;
  vrawAt: number;
  vyAt: number;
}

/** The compiled kernels for one shape; they import their memory as env.mem (shared, so threads can run them). */
export function kernelModule(shape: KernelShape): WasmModule {
  return new wasm.Module(assembleKernels(shape));
}

/** Instantiates the kernels on a memory; every thread instantiates the same module. */
export function gbdtKernels(module: WasmModule, memory: WasmMemory): GbdtKernels {
  return kernelsOf(new wasm.Instance(module, { env: { mem: memory } }).exports);
}

/** The kernels of an instance's exports. The helper thread runs this function from its source text. */
export function kernelsOf(exports: Record<string, unknown>): GbdtKernels {
  const gradients = exports.gradients as (start: number, end: number) => number[];
  const validLoss = exports.validLoss as (start: number, end: number) => number[];
  // The kernels keep the product of the likelihoods as mantissa and exponent (see logisticBody).
  const loss = (prod: number, exponent: number): number => -(Math.log(prod) + exponent * Math.LN2);
  return {
    hist: exports.hist as GbdtKernels['hist'],
    histSums: exports.histSums as GbdtKernels['histSums'],
    partition: exports.partition as GbdtKernels['partition'],
    addLeaf: exports.addLeaf as GbdtKernels['addLeaf'],
    gradients(start, end) {
      const [prod, exponent, g, h] = gradients(start, end);
      return [loss(prod, exponent), g, h];
    },
    validLoss(start, end) {
      const [prod, exponent] = validLoss(start, end);
      return loss(prod, exponent);
    },
  };
}

// Opcodes and encodings used (WebAssembly 1.0 binary format, with SIMD and multiple results).
const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;
const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  brIf: 0x0d,
  end: 0x0b,
  drop: 0x1a,
  select: 0x1b,
  get: 0x20,
  set: 0x21,
  tee: 0x22,
  i32Load: 0x28,
  f64Load: 0x2b,
  i32Load8U: 0x2d,
  i32Store: 0x36,
  f64Store: 0x39,
  i32Const: 0x41,
  f64Const: 0x44,
  i32LtU: 0x49,
  i32LeU: 0x4d,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i64Add: 0x7c,
  f64Add: 0xa0,
  f64Mul: 0xa2,
  f64ConvertI64S: 0xb9,
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
const get = (x: number): number[] => [OP.get, x];
const set = (x: number): number[] => [OP.set, x];
const tee = (x: number): number[] => [OP.tee, x];
const c = (v: number): number[] => [OP.i32Const, ...sleb(v)];
const mem = (op: readonly number[], align: number, off: number): number[] => [...op, align, ...uleb(off)];
const f64 = (v: number): number[] => [OP.f64Const, ...new Uint8Array(new Float64Array([v]).buffer)];

/** Rows ahead whose codes and gradients the histogram loads (and drops) to bring them into the cache. */
const AHEAD = 4;

/**
 * hist(rowsAt, k, end, histAt):
 *   for k in [k, end): i = u32 at rowsAt + 4k; v = (g, h) = f64x2 at ghAt + 16i
 *     touch the codes and gradients of row rows[min(k + AHEAD, end - 1)]
 *     for each feature j < f: q = histAt + code(i, j) * 24
 *       f64x2 at q + j * featureBytes += v (Σg and Σh in one SIMD add); f64 at q + j * featureBytes + 16 += 1
 * Each lane adds in the same order as a scalar loop would, so the sums are identical. The deep
 * nodes' rows are scattered over the codes and gradients; without the early loads every row
 * waits for its cache misses, with them up to AHEAD rows' misses are in flight at once.
 * histSums is the same loop without the counts.
 */
function histBody({ f, stride, maxBins, codesAt, ghAt }: KernelShape, counts: boolean): number[] {
  const P = { rows: 0, k: 1, end: 2, hist: 3 };
  const L = { i: 4, row: 5, q: 6, ahead: 7, v: 8 };
  const f64One = f64(1);
  const featureBytes = maxBins * 24;
  const perFeature = (j: number): number[] => [
    ...get(L.row), ...mem([OP.i32Load8U], 0, codesAt + j), ...c(24), OP.i32Mul, ...get(P.hist), OP.i32Add, ...set(L.q),
    ...get(L.q), ...get(L.q), ...mem(SIMD.load, 3, j * featureBytes), ...get(L.v), ...SIMD.f64x2Add, ...mem(SIMD.store, 3, j * featureBytes),
    ...(counts
      ? [...get(L.q), ...get(L.q), ...mem([OP.f64Load], 3, j * featureBytes + 16), ...f64One, OP.f64Add, ...mem([OP.f64Store], 3, j * featureBytes + 16)]
      : []),
  ];
  const body = [
    OP.block, VOID,
    ...get(P.k), ...get(P.end), OP.i32GeU, OP.brIf, 0,
    OP.loop, VOID,
    ...get(P.rows), ...get(P.k), ...c(2), OP.i32Shl, OP.i32Add, ...mem([OP.i32Load], 2, 0), ...set(L.i),
    ...get(L.i), ...c(4), OP.i32Shl, ...mem(SIMD.load, 3, ghAt), ...set(L.v),
    ...get(P.rows),
    ...get(P.k), ...c(AHEAD), OP.i32Add, ...get(P.end), ...c(1), OP.i32Sub,
    ...get(P.k), ...c(AHEAD), OP.i32Add, ...get(P.end), ...c(1), OP.i32Sub, OP.i32LtU, OP.select,
    ...c(2), OP.i32Shl, OP.i32Add, ...mem([OP.i32Load], 2, 0), ...set(L.ahead),
    ...get(L.ahead), ...c(stride), OP.i32Mul, ...mem([OP.i32Load8U], 0, codesAt), OP.drop,
    ...get(L.ahead), ...c(4), OP.i32Shl, ...mem([OP.f64Load], 3, ghAt), OP.drop,
    ...get(L.i), ...c(stride), OP.i32Mul, ...set(L.row),
    ...Array.from({ length: f }, (_, j) => perFeature(j)).flat(),
    ...get(P.k), ...c(1), OP.i32Add, ...tee(P.k), ...get(P.end), OP.i32LtU, OP.brIf, 0,
    OP.end,
    OP.end,
    OP.end,
  ];
  return [...vec([[...uleb(4), I32], [...uleb(1), V128]]), ...body];
}

/**
 * partition(k, end, columnAt, bin) -> lefts:
 *   w = r = k; for k in [k, end): i = rows[k]; left = (u8 at columnAt + i) <= bin
 *     rows[w] = i; tmp[r] = i; w += left; r += 1 - left
 * Branch-free: every row is written to both sides and only one cursor moves, so a split that
 * sends rows left and right at random costs no mispredicted branches.
 */
function partitionBody({ rowsAt, tmpAt }: KernelShape): number[] {
  const P = { k: 0, end: 1, col: 2, bin: 3 };
  const L = { start: 4, w: 5, r: 6, i: 7, left: 8 };
  const body = [
    ...get(P.k), ...tee(L.start), ...tee(L.w), ...set(L.r),
    OP.block, VOID,
    ...get(P.k), ...get(P.end), OP.i32GeU, OP.brIf, 0,
    OP.loop, VOID,
    ...get(P.k), ...c(2), OP.i32Shl, ...mem([OP.i32Load], 2, rowsAt), ...set(L.i),
    ...get(L.i), ...get(P.col), OP.i32Add, ...mem([OP.i32Load8U], 0, 0), ...get(P.bin), OP.i32LeU, ...set(L.left),
    ...get(L.w), ...c(2), OP.i32Shl, ...get(L.i), ...mem([OP.i32Store], 2, rowsAt),
    ...get(L.r), ...c(2), OP.i32Shl, ...get(L.i), ...mem([OP.i32Store], 2, tmpAt),
    ...get(L.w), ...get(L.left), OP.i32Add, ...set(L.w),
    ...get(L.r), ...get(L.left), ...c(1), OP.i32Xor, OP.i32Add, ...set(L.r),
    ...get(P.k), ...c(1), OP.i32Add, ...tee(P.k), ...get(P.end), OP.i32LtU, OP.brIf, 0,
    OP.end,
    OP.end,
    ...get(L.w), ...get(L.start), OP.i32Sub,
    OP.end,
  ];
  return [...vec([[...uleb(5), I32]]), ...body];
}

// SIMD on two f64 (or i64) lanes: opcodes after the 0xfd prefix.
const X2 = {
  extractI64: [0xfd, 0x1d],
  extractF64: [0xfd, 0x21],
  ne: [0xfd, 0x48],
  ge: [0xfd, 0x4c],
  and: [0xfd, 0x4e],
  or: [0xfd, 0x50],
  bitselect: [0xfd, 0x52],
  load32Zero: [0xfd, 0x5c],
  nearest: [0xfd, 0x94, 0x01],
  extendI8ToI16: [0xfd, 0x89, 0x01],
  extendI16ToI32: [0xfd, 0xa9, 0x01],
  extendI32ToI64: [0xfd, 0xc7, 0x01],
  shlI64: [0xfd, 0xcb, 0x01],
  shrI64: [0xfd, 0xcd, 0x01],
  addI64: [0xfd, 0xce, 0x01],
  subI64: [0xfd, 0xd1, 0x01],
  abs: [0xfd, 0xec, 0x01],
  neg: [0xfd, 0xed, 0x01],
  add: [0xfd, 0xf0, 0x01],
  sub: [0xfd, 0xf1, 0x01],
  mul: [0xfd, 0xf2, 0x01],
  div: [0xfd, 0xf3, 0x01],
  max: [0xfd, 0xf5, 0x01],
  truncToI32: [0xfd, 0xfc, 0x01],
  convertI32: [0xfd, 0xff, 0x01],
};
/** A v128 constant: two f64 lanes, or two i64 lanes. */
const f64x2 = (a: number, b = a): number[] => [0xfd, 0x0c, ...new Uint8Array(new Float64Array([a, b]).buffer)];
const i64x2 = (a: bigint, b = a): number[] => [0xfd, 0x0c, ...new Uint8Array(new BigInt64Array([a, b]).buffer)];
/** i8x16.shuffle picking bytes of its two operands (0-15 from the first, 16-31 from the second). */
const shuffle = (lanes: number[]): number[] => [0xfd, 0x0d, ...lanes];
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);

/**
 * exp(x) for two x <= 0 in local x, left on the stack; x below -708 counts as -708 (the callers
 * floor what they take from it far above e^-708). Cody-Waite reduction x = k ln2 + r with
 * |r| <= ln2 / 2, then e^r by its Taylor polynomial of degree 13 (truncation error below 1e-17)
 * and 2^k from the exponent bits: within a few units in the last place of Math.exp.
 */
function expOf(x: number, k: number, r: number, r2: number, r4: number): number[] {
  const LN2_HI = 6.93147180369123816490e-1;
  const LN2_LO = 1.90821492927058770002e-10;
  const coef: number[] = [1];
  for (let d = 1; d <= 13; d++) coef.push(coef[d - 1] / d);
  // Estrin's scheme: pairs a + b·r, then pairs of pairs times r², r⁴, r⁸ (a short dependency chain).
  const lin = (d: number): number[] => [...f64x2(coef[d + 1]), ...get(r), ...X2.mul, ...f64x2(coef[d]), ...X2.add];
  const quad = (d: number): number[] => [...lin(d + 2), ...get(r2), ...X2.mul, ...lin(d), ...X2.add];
  const poly = [
    ...lin(12), ...get(r4), ...X2.mul, ...quad(8), ...X2.add,
    ...get(r4), ...get(r4), ...X2.mul, ...X2.mul,
    ...quad(4), ...get(r4), ...X2.mul, ...quad(0), ...X2.add,
    ...X2.add,
  ];
  return [
    ...get(x), ...f64x2(-708), ...X2.max, ...tee(x),
    ...f64x2(Math.LOG2E), ...X2.mul, ...X2.nearest, ...set(k),
    ...get(x), ...get(k), ...f64x2(LN2_HI), ...X2.mul, ...X2.sub, ...get(k), ...f64x2(LN2_LO), ...X2.mul, ...X2.sub, ...tee(r),
    ...get(r), ...X2.mul, ...tee(r2), ...get(r2), ...X2.mul, ...set(r4),
    ...poly,
    ...get(k), ...X2.truncToI32, ...X2.extendI32ToI64, ...i64x2(1023n), ...X2.addI64, ...c(52), ...X2.shlI64,
    ...X2.mul,
  ];
}

/**
 * gradients(start, end) -> (prod, exponent, Σg, Σh) over rows i in [start, end), two at a time
 * (in the two lanes of a SIMD vector, so that the choices below are bit selections, not branches
 * that a random sign or label would mispredict), with z = raw[i]:
 *   e = exp(-|z|), d = 1 / (1 + e); p = sigmoid(z) = d or e·d and 1 - p = e·d or d (as z >= 0
 *   or not: never an overflow, and 1 - p without cancellation)
 *   gh[i] = (p - y, max(p (1 - p), 1e-16))
 *   likelihood (p or 1 - p, floored at 1e-15) multiplied into a running product whose exponent
 *   is moved out after each row, so the log-loss sum is -(ln prod + exponent ln 2): one log per
 *   call instead of one per row.
 * A last odd row runs in the first lane, with the second lane masked out and not stored.
 * validLoss is the same loop on the validation rows without the gradients.
 */
function logisticBody(rawAt: number, yAt: number, ghAt: number | null): number[] {
  const P = { k: 0, end: 1 };
  const L = { z: 2, y: 3, x: 4, kk: 5, r: 6, e: 7, d: 8, p: 9, q: 10, g: 11, h: 12, prod: 13, exponent: 14, sg: 15, sh: 16, both: 17, r2: 18, r4: 19 };
  const MANTISSA = (1n << 52n) - 1n;
  const ONE = 1023n << 52n;
  const pos = [...get(L.z), ...f64x2(0), ...X2.ge];
  const both = get(L.both);
  const pairSum = (local: number): number[] => [...get(local), ...X2.extractF64, 0, ...get(local), ...X2.extractF64, 1, OP.f64Add];
  const body = [
    ...f64x2(1), ...set(L.prod),
    OP.block, VOID,
    ...get(P.k), ...get(P.end), OP.i32GeU, OP.brIf, 0,
    OP.loop, VOID,
    // Lane mask: both lanes, or only the first one when the pair is the last odd row.
    ...i64x2(-1n), ...i64x2(-1n, 0n), ...get(P.k), ...c(1), OP.i32Add, ...get(P.end), OP.i32LtU, OP.select, ...set(L.both),
    ...get(P.k), ...c(3), OP.i32Shl, ...mem(SIMD.load, 3, rawAt), ...tee(L.z), ...X2.abs, ...X2.neg, ...set(L.x),
    ...get(P.k), ...mem(X2.load32Zero, 0, yAt), ...X2.extendI8ToI16, ...X2.extendI16ToI32, ...X2.convertI32, ...set(L.y),
    ...expOf(L.x, L.kk, L.r, L.r2, L.r4), ...tee(L.e),
    ...f64x2(1), ...X2.add, ...set(L.d), ...f64x2(1), ...get(L.d), ...X2.div, ...set(L.d),
    ...get(L.d), ...get(L.e), ...get(L.d), ...X2.mul, ...pos, ...X2.bitselect, ...set(L.p),
    ...get(L.e), ...get(L.d), ...X2.mul, ...get(L.d), ...pos, ...X2.bitselect, ...set(L.q),
    ...(ghAt === null
      ? []
      : [
          ...get(L.p), ...get(L.y), ...X2.sub, ...f64x2(0), ...both, ...X2.bitselect, ...set(L.g),
          ...get(L.p), ...get(L.q), ...X2.mul, ...f64x2(1e-16), ...X2.max, ...f64x2(0), ...both, ...X2.bitselect, ...set(L.h),
          // gh of the pair: (g0, h0) then, unless masked, (g1, h1).
          ...get(P.k), ...c(4), OP.i32Shl, ...get(L.g), ...get(L.h), ...shuffle([...range(0, 8), ...range(16, 24)]), ...mem(SIMD.store, 3, ghAt),
          ...get(P.k), ...c(1), OP.i32Add, ...get(P.end), OP.i32LtU,
          OP.if, VOID,
          ...get(P.k), ...c(4), OP.i32Shl, ...get(L.g), ...get(L.h), ...shuffle([...range(8, 16), ...range(24, 32)]), ...mem(SIMD.store, 3, ghAt + 16),
          OP.end,
          ...get(L.sg), ...get(L.g), ...X2.add, ...set(L.sg),
          ...get(L.sh), ...get(L.h), ...X2.add, ...set(L.sh),
        ]),
    ...get(L.prod),
    ...get(L.p), ...get(L.q), ...get(L.y), ...f64x2(0), ...X2.ne, ...X2.bitselect, ...f64x2(1e-15), ...X2.max,
    ...f64x2(1), ...both, ...X2.bitselect,
    ...X2.mul, ...tee(L.prod),
    ...c(52), ...X2.shrI64, ...i64x2(1023n), ...X2.subI64, ...get(L.exponent), ...X2.addI64, ...set(L.exponent),
    ...get(L.prod), ...i64x2(MANTISSA), ...X2.and, ...i64x2(ONE), ...X2.or, ...set(L.prod),
    ...get(P.k), ...c(2), OP.i32Add, ...tee(P.k), ...get(P.end), OP.i32LtU, OP.brIf, 0,
    OP.end,
    OP.end,
    ...get(L.prod), ...X2.extractF64, 0, ...get(L.prod), ...X2.extractF64, 1, OP.f64Mul,
    ...get(L.exponent), ...X2.extractI64, 0, ...get(L.exponent), ...X2.extractI64, 1, OP.i64Add, OP.f64ConvertI64S,
    ...pairSum(L.sg),
    ...pairSum(L.sh),
    OP.end,
  ];
  return [...vec([[...uleb(18), V128]]), ...body];
}

/** addLeaf(k, end, value): for k in [k, end): f64 at rawAt + 8 rows[k] += value. */
function addLeafBody({ rowsAt, rawAt }: KernelShape): number[] {
  const P = { k: 0, end: 1, value: 2 };
  const L = { at: 3 };
  const body = [
    OP.block, VOID,
    ...get(P.k), ...get(P.end), OP.i32GeU, OP.brIf, 0,
    OP.loop, VOID,
    ...get(P.k), ...c(2), OP.i32Shl, ...mem([OP.i32Load], 2, rowsAt), ...c(3), OP.i32Shl, ...tee(L.at),
    ...get(L.at), ...mem([OP.f64Load], 3, rawAt), ...get(P.value), OP.f64Add, ...mem([OP.f64Store], 3, rawAt),
    ...get(P.k), ...c(1), OP.i32Add, ...tee(P.k), ...get(P.end), OP.i32LtU, OP.brIf, 0,
    OP.end,
    OP.end,
    OP.end,
  ];
  return [...vec([[...uleb(1), I32]]), ...body];
}

function assembleKernels(shape: KernelShape): Uint8Array {
  const i32s = (k: number): number[][] => Array.from({ length: k }, () => [I32]);
  const f64s = (k: number): number[][] => Array.from({ length: k }, () => [F64]);
  const funcs: [string, number, number[]][] = [
    ['hist', 0, histBody(shape, true)],
    ['histSums', 0, histBody(shape, false)],
    ['partition', 1, partitionBody(shape)],
    ['gradients', 2, logisticBody(shape.rawAt, shape.yAt, shape.ghAt)],
    ['validLoss', 2, logisticBody(shape.vrawAt, shape.vyAt, null)],
    ['addLeaf', 3, addLeafBody(shape)],
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    // Types: 0 = (i32 x4) -> (), 1 = (i32 x4) -> i32, 2 = (i32 x2) -> (f64 x4), 3 = (i32 i32 f64) -> ().
    ...section(
      1,
      vec([
        [0x60, ...vec(i32s(4)), 0],
        [0x60, ...vec(i32s(4)), ...vec(i32s(1))],
        [0x60, ...vec(i32s(2)), ...vec(f64s(4))],
        [0x60, ...vec([[I32], [I32], [F64]]), 0],
      ]),
    ),
    // Imported memory, shared (flags 0x03: shared, with a maximum) so a helper thread can use it.
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x03, ...uleb(0), ...uleb(65536)]])),
    ...section(3, vec(funcs.map(([, type]) => [type]))),
    ...section(7, vec(funcs.map(([fn], k) => [...name(fn), 0x00, k]))),
    ...section(10, vec(funcs.map(([, , body]) => [...uleb(body.length), ...body]))),
  ]);
}
