// Directory watchers for hot reload. fs.watch is per directory and non-recursive on purpose:
// recursive watching on Linux is emulated in Node 20 and throws when a watched subfolder is
// deleted (a `git revert` of a registration does exactly that). Watchers can also miss events
// (atomic renames on some file systems, network mounts), which is why the model pool also polls.
import { watch, type FSWatcher } from 'node:fs';

export interface DirWatcher {
  /** Watches exactly these directories from now on (missing ones are skipped). */
  update(dirs: Iterable<string>): void;
  close(): void;
}

export function watchDirs(onEvent: (dir: string) => void): DirWatcher {
  const watchers = new Map<string, FSWatcher>();
  let closed = false;
  const drop = (dir: string) => {
    watchers.get(dir)?.close();
    watchers.delete(dir);
  };
  return {
    update(dirs) {
      if (closed) return;
      const want = new Set(dirs);
      for (const dir of [...watchers.keys()]) if (!want.has(dir)) drop(dir);
      for (const dir of want) {
        if (watchers.has(dir)) continue;
        try {
          const w = watch(dir, { persistent: false }, () => onEvent(dir));
          // A watched folder that disappears is a change too; the next update re-adds it if it returns.
          w.on('error', () => {
            drop(dir);
            onEvent(dir);
          });
          watchers.set(dir, w);
        } catch {
          // Missing folder (e.g. no versions yet): the poll notices when it appears.
        }
      }
    },
    close() {
      closed = true;
      for (const dir of [...watchers.keys()]) drop(dir);
    },
  };
}
