import { describe, expect, it } from 'vitest';
import { metricSourceFromConfig } from '../../src/metrics/from-config.js';

describe('metricSourceFromConfig', () => {
  it('uses the outcome store by default', () => {
    expect(metricSourceFromConfig({ source: { type: 'outcomes' }, dir: '.' }).kind).toBe('outcomes');
  });

  it('reads the Prometheus URL from the config or the named variable', () => {
    expect(metricSourceFromConfig({ source: { type: 'prometheus', url: 'http://prom:9090' }, dir: '.' }).kind).toBe('prometheus');
    expect(metricSourceFromConfig({ source: { type: 'prometheus', url_env: 'PROM' }, dir: '.', env: { PROM: 'https://prom.example' } }).kind).toBe('prometheus');
  });

  it.each([
    [{ type: 'prometheus' as const }, /has no URL/],
    [{ type: 'prometheus' as const, url_env: 'PROM' }, /PROM is not set/],
    [{ type: 'prometheus' as const, url: 'prom:9090' }, /must start with http/],
    [{ type: 'graphite' as unknown as 'outcomes' }, /unknown canary.source.type/],
  ])('rejects %o with CONFIG_INVALID', (source, message) => {
    expect(() => metricSourceFromConfig({ source, dir: '.', env: {} })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(message) }));
  });
});
