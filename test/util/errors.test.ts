// MlopsError is recognised by its brand, also when thrown by another copy of errors.js (the
// bundled CLI carries one, the modules it loads from dist/ theirs).
import { describe, expect, it } from 'vitest';
import { MlopsError, isMlopsError } from '../../src/errors.js';

describe('isMlopsError', () => {
  it('recognises an MlopsError of another copy of the module, and nothing else', async () => {
    const other = (await import('../../src/errors.js?another-copy')) as typeof import('../../src/errors.js');
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
