// SHA-256 of shard files. Delegates to util/hash's sha256File: plain 1 MiB reads hashed in turn.
// Overlapping the next read with hashing (two buffers, read in flight on the thread pool) was
// measured too and was slower here (about 1.0 vs 1.2 GB/s from the page cache): hashing is the
// bottleneck and the second buffer only adds memory traffic. bench/data-hash.mjs
// compares this against `openssl dgst -sha256` on a 1 GiB file.
import { sha256File } from '../util/hash.js';

export interface FileDigest {
  sha256: string;
  bytes: number;
}

export function hashFile(path: string): Promise<FileDigest> {
  return sha256File(path);
}
