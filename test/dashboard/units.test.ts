import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { weekStart, versionSortKey, fmtInt, fmtTime } from '../../src/dashboard/format.js';
import { escapeHtml, html, raw } from '../../src/dashboard/html.js';
import { timestampAndResult } from '../../src/dashboard/shard-weeks.js';
import { relHref, sitePaths } from '../../src/dashboard/site-paths.js';
import { niceTicks } from '../../src/dashboard/svg-chart.js';
import { weeklyRows } from '../../src/dashboard/pages/datasets-page.js';
import { SITE_MARKER, writeSite } from '../../src/dashboard/write-site.js';
import { encodeTextField } from '../../src/data/csv.js';
import { tempDir } from '../helpers/gitdir.js';

describe('html', () => {
  it('escapes every interpolated value, in text and in attributes, and nests safe markup once', () => {
    const evil = `"><script>alert('x')</script>&`;
    const inner = html`<b>${evil}</b>`;
    const out = html`<a title="${evil}">${inner}${[evil, 1, null, undefined, false]}</a>`.value;
    expect(out).toBe(
      '<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"><b>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</b>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;1</a>',
    );
    expect(html`${raw('<br>')}`.value).toBe('<br>');
    expect(escapeHtml('v1.2.3')).toBe('v1.2.3');
  });
});

describe('site paths', () => {
  it.each([
    [sitePaths.version('m', 'v1.0.0'), sitePaths.overview, '../../../index.html'],
    [sitePaths.version('m', 'v1.0.0'), sitePaths.version('m', 'v0.9.0'), 'v0.9.0.html'],
    [sitePaths.model('m'), sitePaths.canary('m'), 'canary.html'],
    [sitePaths.overview, sitePaths.model('m'), 'models/m/index.html'],
    [sitePaths.model('m'), sitePaths.model('m'), 'index.html'],
  ])('from %s to %s is %s', (from, to, href) => expect(relHref(from, to)).toBe(href));
});

describe('formats', () => {
  it('sorts versions numerically as text and weeks start on Monday (UTC)', () => {
    const vs = ['v1.10.0', 'v1.9.0', 'v10.0.0', 'v2.0.1'];
    expect([...vs].sort((a, b) => (versionSortKey(a) < versionSortKey(b) ? -1 : 1))).toEqual(['v1.9.0', 'v1.10.0', 'v2.0.1', 'v10.0.0']);
    expect(weekStart(Date.parse('2026-11-22T23:59:59Z'))).toBe('2026-11-16'); // a Sunday
    expect(weekStart(Date.parse('2026-11-23T00:00:00Z'))).toBe('2026-11-23'); // a Monday
    expect(fmtInt(1234567)).toBe('1,234,567');
    expect(fmtTime('2026-11-29T09:12:59+02:00')).toBe('2026-11-29 07:12 UTC');
  });

  it('chart ticks are round and cover the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-13.5, 4.6, 5)).toEqual([-10, -5, 0]);
    expect(niceTicks(0.81, 0.851, 5)).toEqual([0.81, 0.82, 0.83, 0.84, 0.85]);
  });
});

describe('shard rows', () => {
  it('finds the timestamp and result with or without quoted fields', () => {
    const plain = '2026-11-02T10:00:00Z,t1,a.example,https://a.example/x,blog_comment,failure,,3.5,4,m,v1.0.0,{}\n';
    expect(timestampAndResult(plain)).toEqual(['2026-11-02T10:00:00Z', 'failure']);
    const quoted = `2026-11-02T10:00:00Z,${encodeTextField('t,2')},${encodeTextField('a "b", c')},${encodeTextField('https://a.example/?q=1,2')},blog_comment,error,,3.5,4,m,v1.0.0,"{""x"":1}"\n`;
    expect(timestampAndResult(quoted)).toEqual(['2026-11-02T10:00:00Z', 'error']);
    expect(timestampAndResult('2026-11-02T10:00:00Z,t1\n')).toBeNull();
  });

  it('weekly rows fall back to the sealing week without a complete mix, and fill empty weeks', () => {
    const shard = (created_at: string, rows: number) => ({ path: `datasets/d/${created_at.slice(0, 10)}-00000000.csv`, sha256: '0'.repeat(64), bytes: 1, rows, created_at, state: 'unchecked' as const, weeks: null });
    const weeks = weeklyRows({ name: 'd', schema: 'outcome_v1', merge_strategy: 'append', merged: { sha256: '0'.repeat(64), rows: 30 }, shards: [shard('2026-11-02T02:00:00Z', 10), shard('2026-11-18T02:00:00Z', 20)], mix: 'none', note: null });
    expect(weeks).toEqual([
      { week: '2026-11-02', mix: null, rows: 10 },
      { week: '2026-11-09', mix: null, rows: 0 },
      { week: '2026-11-16', mix: null, rows: 20 },
    ]);
  });
});

describe('writeSite', () => {
  it('on a failed write, leaves the previous build and no staging folder behind', async () => {
    const parent = tempDir();
    const out = join(parent, 'site');
    await writeSite(out, [{ path: 'index.html', content: 'one' }], {});
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toBe('one');
    expect(existsSync(join(out, SITE_MARKER))).toBe(true);
    // "a" is written as a file, then needed as a folder: the second write fails.
    const files = [{ path: 'index.html', content: 'two' }, { path: 'a', content: 'x' }, ...Array.from({ length: 20 }, (_, i) => ({ path: `a/p${i}.html`, content: 'y' }))];
    await expect(writeSite(out, files, {})).rejects.toThrow();
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toBe('one');
    expect(readdirSync(parent)).toEqual(['site']);
  });

  it('refuses a folder with files but without the marker of a build', async () => {
    const out = join(tempDir(), 'site');
    mkdirSync(out);
    writeFileSync(join(out, '.keep-me-not'), '');
    await expect(writeSite(out, [], {})).rejects.toMatchObject({ code: 'DASHBOARD_OUT_INVALID' });
  });
});
