// The two threads of the gbdt trainer: the calling thread and one helper Worker, on one shared
// WebAssembly.Memory. A task has two halves (gbdt-tasks.ts); the caller offers the second half to
// the helper, runs the first, then takes the second back if the helper has not started it. A
// helper that is slow to wake, busy elsewhere or dead therefore costs no waiting, and the result
// does not depend on which thread ran which half.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { gbdtKernels, kernelModule, kernelsOf, wasm, type WasmMemory, type WasmModule } from './gbdt-kernels.js';
import { ARGS, makeViews, planLayout, runTask, TASK_SOURCE, type Layout, type LayoutSizes, type Views } from './gbdt-tasks.js';

/** Below this many rows a task's two halves both run on the calling thread (a hand-off costs more). */
export const PARALLEL_MIN_ROWS = 4096;
/** How long to wait for a half the helper has started before giving up on the helper. */
const HELPER_TIMEOUT_MS = 60_000;
/**
 * Polls of a control word (about 5 ns each) before sleeping on it. Tasks follow each other within
 * tens of microseconds, and waking a sleeping thread costs more than that: the waker often loses
 * its core to the woken thread on a busy machine.
 */
const SPIN = 50_000;

/** The helper started a half and did not finish it in time; its memory can no longer be trusted. */
export class HelperLostError extends Error {
  constructor(timeoutMs: number) {
    super(`gbdt: the helper thread did not finish a task within ${timeoutMs} ms`);
  }
}

export interface GbdtThreadsOptions {
  /** 1 or 2 (default: 2 when the machine has two cores or more). Results do not depend on it. */
  threads?: number;
  timeoutMs?: number;
}

export interface GbdtThreads {
  views: Views;
  /** Threads actually used (1 or 2). */
  readonly threads: number;
  /** Halves the helper has run so far. */
  readonly helped: number;
  /**
   * Runs both halves of a task, with their arguments; with `parallel`, the second on the helper if
   * it takes it. Results are in views.out. Throws HelperLostError if the helper took its half and
   * did not finish it.
   */
  run(kind: number, args0: number[], args1: number[], parallel: boolean): void;
  /** Stops the helper thread; the views must not be used afterwards. */
  close(): Promise<void>;
}

export function createGbdtThreads(sizes: LayoutSizes, { threads, timeoutMs = HELPER_TIMEOUT_MS }: GbdtThreadsOptions = {}): GbdtThreads {
  const layout = planLayout(sizes);
  const pages = Math.max(1, Math.ceil(layout.bytes / 65536));
  const memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
  const { f, stride, maxBins } = sizes;
  const module = kernelModule({
    f,
    stride,
    maxBins,
    codesAt: layout.codes,
    ghAt: layout.gh,
    rowsAt: layout.rows,
    tmpAt: layout.tmp,
    rawAt: layout.raw,
    yAt: layout.y,
    vrawAt: layout.vraw,
    vyAt: layout.vy,
  });
  const views = makeViews(memory.buffer, layout, gbdtKernels(module, memory));
  const wanted = threads ?? (availableParallelism() > 1 ? 2 : 1);
  const used = wanted >= 2 && sizes.n >= PARALLEL_MIN_ROWS ? 2 : 1;
  let helper: Helper | null = used === 2 ? startHelper(module, memory, layout, timeoutMs) : null;
  let helped = 0;
  return {
    views,
    threads: used,
    get helped() {
      return helped;
    },
    run(kind, args0, args1, parallel) {
      views.args.set(args0, 0);
      views.args.set(args1, ARGS);
      if (!helper || !parallel) {
        runTask(views, kind, 0);
        runTask(views, kind, 1);
        return;
      }
      const ticket = helper.offer(kind);
      runTask(views, kind, 0);
      if (helper.takeBack(ticket)) {
        runTask(views, kind, 1);
      } else {
        helper.wait(ticket);
        helped++;
      }
    },
    async close() {
      const h = helper;
      helper = null;
      if (h) await h.stop();
    },
  };
}

// Control words shared with the helper (exported for the tests' stand-in helpers).
/** Ticket of the half on offer; 0 when none, -1 to stop. */
export const C_OFFER = 0;
/** Ticket of the last half the helper finished. */
export const C_DONE = 1;
const C_KIND = 2;

interface Helper {
  offer(kind: number): number;
  /** True if the offered half was still untaken: the caller runs it. */
  takeBack(ticket: number): boolean;
  /** Returns once the helper finished the ticket; throws HelperLostError after the timeout. */
  wait(ticket: number): void;
  stop(): Promise<void>;
}

function startHelper(module: WasmModule, memory: WasmMemory, layout: Layout, timeoutMs: number): Helper {
  const control = new Int32Array(new SharedArrayBuffer(4 * 4));
  const worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { module, memory, layout, control: control.buffer } });
  worker.unref();
  // A crashed helper takes no more halves, and the caller runs them: nothing to do with the event.
  worker.on('error', () => undefined);
  let ticket = 0;
  return {
    offer(kind) {
      control[C_KIND] = kind;
      Atomics.store(control, C_OFFER, ++ticket);
      Atomics.notify(control, C_OFFER);
      return ticket;
    },
    takeBack(t) {
      return Atomics.compareExchange(control, C_OFFER, t, 0) === t;
    },
    wait(t) {
      for (let s = 0; s < SPIN; s++) if (Atomics.load(control, C_DONE) === t) return;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const done = Atomics.load(control, C_DONE);
        if (done === t) return;
        const left = deadline - Date.now();
        if (left <= 0) throw new HelperLostError(timeoutMs);
        Atomics.wait(control, C_DONE, done, left);
      }
    },
    async stop() {
      Atomics.store(control, C_OFFER, -1);
      Atomics.notify(control, C_OFFER);
      await worker.terminate();
    },
  };
}

// The helper instantiates the same compiled kernels on the same memory and takes offered halves.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
${TASK_SOURCE}
const { module, memory, layout } = workerData;
const control = new Int32Array(workerData.control);
${kernelsOf}
const views = makeViews(memory.buffer, layout, kernelsOf(new WebAssembly.Instance(module, { env: { mem: memory } }).exports));
for (;;) {
  let t = Atomics.load(control, ${C_OFFER});
  for (let s = 0; t === 0 && s < ${SPIN}; s++) t = Atomics.load(control, ${C_OFFER});
  if (t === 0) {
    Atomics.wait(control, ${C_OFFER}, 0);
    continue;
  }
  if (t < 0) break;
  if (Atomics.compareExchange(control, ${C_OFFER}, t, 0) !== t) continue;
  runTask(views, control[${C_KIND}], 1);
  Atomics.store(control, ${C_DONE}, t);
  Atomics.notify(control, ${C_DONE});
}
`;
