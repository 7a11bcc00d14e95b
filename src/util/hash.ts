// SHA-256 of files and bytes. Files are read with large reads (1 MiB) because small reads
// halve the throughput; dataset hashing must keep pace with `openssl dgst -sha256`.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

const READ_SIZE = 1 << 20;

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ_SIZE);
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, READ_SIZE, null);
      if (bytesRead === 0) break;
      hash.update(bytesRead === READ_SIZE ? buf : buf.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    return { sha256: hash.digest('hex'), bytes };
  } finally {
    await fh.close();
  }
}
