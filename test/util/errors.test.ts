// MlopsError is recognised by its brand, also when thrown by another copy of errors.js (the
// bundled CLI carries one, the modules it loads from dist/ theirs).
import { describe, expect, it } from 'vitest';
import { MlopsError, isMlopsError } from '../../src/errors.js';

describe('isMlopsError', () => {
  it('recognises an MlopsError of another copy of the module, and nothing else', async () => {
    // A query makes the module loader evaluate the file a second time, as a separate module.
    const secondCopy = '../../src/errors.js?another-copy';
    const other = (await import(/* @vite-ignore */ secondCopy)) as typeof import('../../src/errors.js');
    expect(other.MlopsError).not.toBe(MlopsError);
    const foreign = new other.MlopsError('VERSION_NOT_FOUND', 'no such version', { hint: 'list them' });
    expect(foreign instanceof MlopsError).toBe(false);
    expect(isMlopsError(foreign)).toBe(true);
    expect(other.isMlopsError(new MlopsError('USAGE', 'bad'))).toBe(true);
    expect(isMlopsError(new Error('plain'))).toBe(false);
    expect(isMlopsError({ code: 'USAGE', message: 'looks alike', name: 'MlopsError' })).toBe(false);
    expect(isMlopsError(null)).toBe(false);
  });
});
