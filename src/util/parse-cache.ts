// A stat-keyed cache of parsed and validated files, like git's index: a file whose size, inode,
// mtime and ctime are unchanged is not parsed again. It lets `mlops list` over 1,000 manifests
// skip 1,000 YAML parses (about 0.4 ms each) and the YAML/ajv module loads entirely.
// Entries modified within RACY_MS of the cache write are not trusted (git's "racy" rule),
// since a same-size rewrite inside one timestamp tick would otherwise go unseen.
//
// The file is one line of JSON (the header: paths, and per path its stat and byte range as six
// numbers of one flat array) followed by a JSON array of the values. Only the header is parsed
// on open, and it holds no object per entry; a value is parsed from its byte range when asked
// for, so `mlops get`, which needs two entries of a thousand, does not build a thousand objects
// it would not look at. A reader that wants every value (`mlops list`) opens the cache `eager`:
// one JSON.parse of the whole array is about twice as fast as a thousand small ones.
import { readFileSync, mkdirSync, writeFileSync, renameSync, type Stats } from 'node:fs';
import { join } from 'node:path';

const RACY_MS = 2000;
const FORMAT = 4;
/**
 * Numbers per entry in the header: size, ino, mtimeMs, ctimeMs, and the byte range of the
 * value's JSON in the body (at, len; at is -1 for a value set in this run).
 */
const FIELDS = 6;
const [SIZE, INO, MTIME, CTIME, AT, LEN] = [0, 1, 2, 3, 4, 5];

interface Header {
  format: number;
  tool: string;
  writtenAt: number;
  paths: string[];
  /** FIELDS numbers per path, in the order of `paths`. */
  fields: number[];
}

export class ParseCache {
  /**
   * Each path's slot in `fields`, which holds FIELDS numbers per slot: kept as the header's one
   * flat array of numbers rather than an object per entry (a thousand of which, each with its
   * boxed numbers, were a good part of the garbage collection of `mlops list`).
   */
  private entries = new Map<string, number>();
  private fields: number[] = [];
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
  static open(cacheDir: string | null, name: string, tool: string, opts: { eager?: boolean } = {}): ParseCache {
    const cache = new ParseCache(cacheDir ? join(cacheDir, `${name}.json`) : null, tool);
    if (cache.file) {
      try {
        const bytes = readFileSync(cache.file);
        const nl = bytes.indexOf(10);
        const header = JSON.parse(bytes.toString('utf8', 0, nl < 0 ? bytes.length : nl)) as Header;
        if (nl >= 0 && header.format === FORMAT && header.tool === tool && header.fields.length === header.paths.length * FIELDS) {
          const { paths } = header;
          for (let i = 0; i < paths.length; i++) cache.entries.set(paths[i]!, i * FIELDS);
          cache.fields = header.fields;
          cache.writtenAt = header.writtenAt;
          cache.body = bytes.subarray(nl + 1);
          if (opts.eager) cache.parseAll(paths);
        }
      } catch {
        // no cache yet, or unreadable: start empty
      }
    }
    return cache;
  }

  /** Parses the whole body at once; on a damaged body, values are parsed one by one instead. */
  private parseAll(paths: string[]): void {
    let all: unknown;
    try {
      all = JSON.parse(this.body.toString('utf8'));
    } catch {
      return;
    }
    if (!Array.isArray(all) || all.length !== paths.length) return;
    for (let i = 0; i < paths.length; i++) this.values.set(paths[i]!, all[i]);
  }

  get<T>(path: string, st: Stats): T | undefined {
    const o = this.entries.get(path);
    if (o === undefined) return undefined;
    const x = this.fields;
    if (x[o + SIZE] !== st.size || x[o + INO] !== st.ino || x[o + MTIME] !== st.mtimeMs || x[o + CTIME] !== st.ctimeMs) return undefined;
    if (this.writtenAt - st.mtimeMs < RACY_MS) return undefined;
    if (this.values.has(path)) return this.values.get(path) as T;
    let v: unknown;
    try {
      v = JSON.parse(this.body.toString('utf8', x[o + AT], x[o + AT]! + x[o + LEN]!));
    } catch {
      return undefined; // a damaged body: parse the file itself
    }
    this.values.set(path, v);
    return v as T;
  }

  set(path: string, st: Stats, value: unknown): void {
    let o = this.entries.get(path);
    if (o === undefined) this.entries.set(path, (o = this.fields.length));
    [this.fields[o + SIZE], this.fields[o + INO], this.fields[o + MTIME], this.fields[o + CTIME], this.fields[o + AT], this.fields[o + LEN]] = [st.size, st.ino, st.mtimeMs, st.ctimeMs, -1, 0];
    this.values.set(path, value);
    this.dirty = true;
  }

  /** Drops entries not in `keep` (files that are gone). */
  retain(keep: Set<string>): void {
    for (const k of this.entries.keys()) {
      if (!keep.has(k)) {
        this.entries.delete(k);
        this.values.delete(k);
        this.dirty = true;
      }
    }
  }

  /** Writes the cache when it changed or when racy entries could now be trusted. Best effort. */
  save(): void {
    if (!this.file || !this.dirty) return;
    const entries = new Map<string, number>();
    const parts: Buffer[] = [];
    const fields: number[] = [];
    const comma = Buffer.from(',');
    const x = this.fields;
    let at = 1; // after the array's '['
    for (const [path, o] of this.entries) {
      // Values set in this run are written as they are now; the others are copied byte for byte.
      const json = x[o + AT]! < 0 ? Buffer.from(JSON.stringify(this.values.get(path)), 'utf8') : this.body.subarray(x[o + AT], x[o + AT]! + x[o + LEN]!);
      if (parts.length) parts.push(comma);
      parts.push(json);
      entries.set(path, fields.length);
      fields.push(x[o + SIZE]!, x[o + INO]!, x[o + MTIME]!, x[o + CTIME]!, at, json.length);
      at += json.length + 1;
    }
    parts.unshift(Buffer.from('['));
    parts.push(Buffer.from(']'));
    const header: Header = { format: FORMAT, tool: this.tool, writtenAt: Date.now(), paths: [...entries.keys()], fields };
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
      this.fields = fields;
      this.body = Buffer.concat(parts);
      this.writtenAt = header.writtenAt;
      this.dirty = false;
    } catch {
      // a read-only checkout still works, just without the cache
    }
  }
}
