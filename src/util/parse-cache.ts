// A stat-keyed cache of parsed and validated files, like git's index: a file whose size, inode,
// mtime and ctime are unchanged is not parsed again. It lets `mlops list` over 1,000 manifests
// skip 1,000 YAML parses (about 0.4 ms each) and the YAML/ajv module loads entirely.
// Entries modified within RACY_MS of the cache write are not trusted (git's "racy" rule),
// since a same-size rewrite inside one timestamp tick would otherwise go unseen.
//
// The file is one line of JSON (the header: stats and byte ranges) followed by the values' JSON
// texts back to back. Only the header is parsed on open; a value is parsed when asked for, so
// `mlops get`, which needs two entries of a cache holding a thousand manifests, does not build
// a thousand objects it would not look at.
import { readFileSync, mkdirSync, writeFileSync, renameSync, type Stats } from 'node:fs';
import { join } from 'node:path';

const RACY_MS = 2000;
const FORMAT = 2;

interface Entry {
  size: number;
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
  /** Byte range of the value's JSON in the body (entries read from the file). */
  at: number;
  len: number;
}

interface Header {
  format: number;
  tool: string;
  writtenAt: number;
  entries: Record<string, Entry>;
}

export class ParseCache {
  private entries: Record<string, Entry> = {};
  /** The values' JSON texts as read from the file. */
  private body: Buffer = Buffer.alloc(0);
  /** Values parsed or set during this run. */
  private values = new Map<string, unknown>();
  private writtenAt = 0;
  private dirty = false;

  private constructor(
    private readonly file: string | null,
    private readonly tool: string,
  ) {}

  /** Opens the cache under `<cacheDir>/<name>.json`; a missing, stale or damaged file is an empty cache. */
  static open(cacheDir: string | null, name: string, tool: string): ParseCache {
    const cache = new ParseCache(cacheDir ? join(cacheDir, `${name}.json`) : null, tool);
    if (cache.file) {
      try {
        const bytes = readFileSync(cache.file);
        const nl = bytes.indexOf(10);
        const header = JSON.parse(bytes.toString('utf8', 0, nl < 0 ? bytes.length : nl)) as Header;
        if (nl >= 0 && header.format === FORMAT && header.tool === tool) {
          cache.entries = header.entries;
          cache.writtenAt = header.writtenAt;
          cache.body = bytes.subarray(nl + 1);
        }
      } catch {
        // no cache yet, or unreadable: start empty
      }
    }
    return cache;
  }

  get<T>(path: string, st: Stats): T | undefined {
    const e = this.entries[path];
    if (!e) return undefined;
    if (e.size !== st.size || e.ino !== st.ino || e.mtimeMs !== st.mtimeMs || e.ctimeMs !== st.ctimeMs) return undefined;
    if (this.writtenAt - st.mtimeMs < RACY_MS) return undefined;
    if (this.values.has(path)) return this.values.get(path) as T;
    let v: unknown;
    try {
      v = JSON.parse(this.body.toString('utf8', e.at, e.at + e.len));
    } catch {
      return undefined; // a damaged body: parse the file itself
    }
    this.values.set(path, v);
    return v as T;
  }

  set(path: string, st: Stats, value: unknown): void {
    this.entries[path] = { size: st.size, ino: st.ino, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, at: -1, len: 0 };
    this.values.set(path, value);
    this.dirty = true;
  }

  /** Drops entries not in `keep` (files that are gone). */
  retain(keep: Set<string>): void {
    for (const k of Object.keys(this.entries)) {
      if (!keep.has(k)) {
        delete this.entries[k];
        this.values.delete(k);
        this.dirty = true;
      }
    }
  }

  /** Writes the cache when it changed or when racy entries could now be trusted. Best effort. */
  save(): void {
    if (!this.file || !this.dirty) return;
    const entries: Record<string, Entry> = {};
    const parts: Buffer[] = [];
    let at = 0;
    for (const [path, e] of Object.entries(this.entries)) {
      // Values set in this run are written as they are now; the others are copied byte for byte.
      const json = e.at < 0 ? Buffer.from(JSON.stringify(this.values.get(path)), 'utf8') : this.body.subarray(e.at, e.at + e.len);
      parts.push(json);
      entries[path] = { ...e, at, len: json.length };
      at += json.length;
    }
    const header: Header = { format: FORMAT, tool: this.tool, writtenAt: Date.now(), entries };
    try {
      const dir = join(this.file, '..');
      mkdirSync(dir, { recursive: true });
      // A self-ignoring folder, so the cache never shows up in `git status` even without a .gitignore entry.
      writeFileSync(join(dir, '..', '.gitignore'), '*\n', { flag: 'wx' });
    } catch {
      // exists already, or not writable (then the write below fails quietly too)
    }
    try {
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, Buffer.concat([Buffer.from(JSON.stringify(header) + '\n', 'utf8'), ...parts]));
      renameSync(tmp, this.file);
      this.entries = entries;
      this.body = Buffer.concat(parts);
      this.writtenAt = header.writtenAt;
      this.dirty = false;
    } catch {
      // a read-only checkout still works, just without the cache
    }
  }
}
