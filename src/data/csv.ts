// RFC 4180 fields and records, written one canonical way and read back losslessly. Pure.
//
// Canonical field rule (what makes a shard's bytes a function of its records):
// - null is an empty, unquoted field; the empty string is `""`. Readers tell them apart.
// - a text field that starts with = + - @ TAB CR or ' gets one ' in front (CSV/formula injection:
//   a spreadsheet opening a shard shows `'=cmd|...` as text instead of running it). Because a
//   leading ' is always added when the text itself starts with ', the reader strips exactly one
//   and the rule is reversible.
// - a field is quoted only when it must be: empty string, or it holds , " CR or LF. Inner quotes
//   are doubled.
// - numbers use JavaScript's shortest round-trip form (12.4, 1e-7), never quoted.

const FORMULA_TRIGGERS = new Set(['=', '+', '-', '@', '\t', '\r', "'"]);

/** The canonical CSV form of a text value (null -> empty field). */
export function encodeTextField(value: string | null): string {
  if (value === null) return '';
  if (value === '') return '""';
  // Char codes instead of a Set and a regex: this runs for eight fields of every row collected.
  const c = value.charCodeAt(0);
  const v = c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13 || c === 39 ? `'${value}` : value;
  for (let i = 0; i < v.length; i++) {
    const d = v.charCodeAt(i);
    if (d === 34 || d === 44 || d === 10 || d === 13) return `"${v.replace(/"/g, '""')}"`;
  }
  return v;
}

/** The canonical CSV form of a number (null -> empty field). */
export function encodeNumberField(value: number | null): string {
  if (value === null) return '';
  return String(value === 0 ? 0 : value);
}

/** A raw CSV field: its text with quotes removed, and whether it was quoted. */
export interface RawField {
  text: string;
  quoted: boolean;
}

/**
 * Splits one CSV record (without its line ending) into raw fields. Returns null when the quoting
 * is malformed (a quote inside an unquoted field, text after a closing quote, an unclosed quote).
 */
export function splitRecord(line: string): RawField[] | null {
  const fields: RawField[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    if (i < n && line.charCodeAt(i) === 34 /* " */) {
      let text = '';
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) return null;
        text += line.slice(j, q);
        if (line.charCodeAt(q + 1) === 34) {
          text += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push({ text, quoted: true });
      if (i === n) return fields;
      if (line.charCodeAt(i) !== 44 /* , */) return null;
      i++;
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? n : c;
      const text = line.slice(i, end);
      if (text.includes('"')) return null;
      fields.push({ text, quoted: false });
      if (c < 0) return fields;
      i = c + 1;
    }
  }
}

/** Inverse of encodeTextField. */
export function decodeTextField(f: RawField): string | null {
  if (!f.quoted && f.text === '') return null;
  const t = f.text;
  return t.length > 1 && t.charCodeAt(0) === 39 /* ' */ && FORMULA_TRIGGERS.has(t[1]!) ? t.slice(1) : t;
}

/** Inverse of encodeNumberField; NaN when the text is not a number. */
export function decodeNumberField(f: RawField): number | null {
  if (!f.quoted && f.text === '') return null;
  if (!/^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i.test(f.text)) return Number.NaN;
  return Number(f.text);
}

/**
 * Splits a byte stream into CSV records (a line ending inside quotes belongs to the field).
 * Feed chunks with push(); each complete record is passed to onRecord as bytes without its LF.
 * Records are byte ranges so callers can hash or copy them without re-encoding.
 */
export class CsvRecordSplitter {
  private carry: Buffer | null = null;
  constructor(private readonly onRecord: (buf: Buffer, start: number, end: number) => void) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    // One pass over the bytes: a quote toggles "inside a field", an LF outside ends a record.
    // (A doubled quote toggles twice, which is what it should do.)
    let start = 0;
    let inside = false;
    const n = buf.length;
    for (let i = 0; i < n; i++) {
      const b = buf[i]!;
      if (b === 34) inside = !inside;
      else if (b === 10 && !inside) {
        this.onRecord(buf, start, i);
        start = i + 1;
      }
    }
    if (start < n) this.carry = Buffer.from(buf.subarray(start));
  }

  /** Bytes after the last LF (a record without its line ending), or null. */
  end(): Buffer | null {
    const c = this.carry;
    this.carry = null;
    return c && c.length ? c : null;
  }
}
