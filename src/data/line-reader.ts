// Streams the complete lines of a file from a byte offset, with the offset of each line, in
// batches. Used by the outcome store: a line is only "complete" once its LF is on disk, so a
// line still being written (or torn by a crash) is never handed out as a record.
import { open } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';

const READ_SIZE = 1 << 20;

export type LineProblem = 'too_long' | 'not_utf8';

export interface FileLine {
  /** Byte offset of the first byte of the line. */
  start: number;
  /** Byte offset just past its LF (where the next line starts). */
  next: number;
  /** The line without LF (and without a trailing CR), or null when it has a problem. */
  text: string | null;
  problem?: LineProblem;
}

/**
 * Yields batches of complete lines from `start`. Lines longer than maxLineBytes are reported
 * (problem 'too_long') without being buffered whole. The bytes after the last LF are not yielded;
 * `state.tailBytes` tells how many there were (a torn or in-progress line).
 */
export async function* readLines(
  path: string,
  opts: { start?: number; maxLineBytes: number; end?: number; state?: { tailBytes: number; size: number } },
): AsyncGenerator<FileLine[]> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const end = opts.end === undefined ? size : Math.min(opts.end, size);
    let pos = opts.start ?? 0;
    let lineStart = pos;
    let carry: Buffer | null = null; // bytes of the current line read so far
    let skipping = false; // inside an over-long line: drop bytes until its LF
    const buf = Buffer.allocUnsafe(READ_SIZE);
    while (pos < end) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(READ_SIZE, end - pos), pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      const out: FileLine[] = [];
      let i = 0;
      // A whole-chunk UTF-8 check is one native call; lines are only checked one by one when it fails.
      const lastNl = chunk.lastIndexOf(10);
      const checkedFrom = carry || skipping ? chunk.indexOf(10) + 1 : 0;
      const regionUtf8 = lastNl >= checkedFrom && isUtf8(chunk.subarray(checkedFrom, lastNl + 1));
      while (i < bytesRead) {
        const nl = chunk.indexOf(10, i);
        if (nl < 0) {
          if (!skipping) {
            const piece = chunk.subarray(i);
            carry = carry ? Buffer.concat([carry, piece]) : Buffer.from(piece);
            if (carry.length > opts.maxLineBytes) {
              skipping = true;
              carry = null;
            }
          }
          break;
        }
        const lineEnd = pos + nl;
        let text: string | null = null;
        let problem: LineProblem | undefined;
        if (skipping) {
          problem = 'too_long';
        } else if (!carry && regionUtf8 && i >= checkedFrom) {
          // The common case: the line lies in this chunk, in a region already known to be UTF-8.
          if (nl - i + 1 > opts.maxLineBytes) problem = 'too_long';
          else text = chunk.toString('utf8', i, nl > i && chunk[nl - 1] === 13 ? nl - 1 : nl);
        } else {
          const bytes = carry ? Buffer.concat([carry, chunk.subarray(i, nl)]) : chunk.subarray(i, nl);
          const len = bytes.length + 1;
          if (len > opts.maxLineBytes) problem = 'too_long';
          else if (!isUtf8(bytes)) problem = 'not_utf8';
          else {
            const e = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
            text = bytes.toString('utf8', 0, e);
          }
        }
        out.push({ start: lineStart, next: lineEnd + 1, text, problem });
        carry = null;
        skipping = false;
        lineStart = lineEnd + 1;
        i = nl + 1;
      }
      pos += bytesRead;
      if (out.length) yield out;
    }
    if (opts.state) {
      opts.state.tailBytes = pos - lineStart;
      opts.state.size = size;
    }
  } finally {
    await fh.close();
  }
}
