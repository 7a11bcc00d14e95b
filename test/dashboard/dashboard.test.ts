import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../src/app/dashboard.js';
import { readHistory } from '../../src/app/history.js';
import { openContext } from '../../src/app/context.js';
import { canaryStart } from '../../src/app/stage-ops.js';
import { SORT_SCRIPT } from '../../src/dashboard/sort-script.js';
import { STYLE } from '../../src/dashboard/style.js';
import { tempDir } from '../helpers/gitdir.js';
import { cli, registerFake, registryRepo } from '../helpers/registry.js';
import { MODEL, NOW, XSS } from './fixture.js';
import { buildFixtureSite, type BuiltSite } from './site.js';

/** Text of an HTML fragment: tags dropped, entities decoded, spaces collapsed. */
function text(html: string): string {
  return decode(html.replace(/<[^>]*>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}

function decode(html: string): string {
  return html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The first <tr> whose attributes include `attr="value"`. */
function row(html: string, attr: string, value: string): string {
  const i = html.indexOf(`<tr ${attr}="${value}"`);
  if (i < 0) throw new Error(`no row ${attr}=${value}`);
  return html.slice(i, html.indexOf('</tr>', i) + 5);
}

/** A cell of a row by its data-col, with its data-value and text. */
function cell(rowHtml: string, col: string): { value: string | null; text: string } {
  const m = new RegExp(`<td([^>]*\\sdata-col="${col}"[^>]*)>([\\s\\S]*?)</td>`).exec(rowHtml);
  if (!m) throw new Error(`no cell ${col}`);
  const v = /data-value="([^"]*)"/.exec(m[1]!);
  return { value: v ? v[1]! : null, text: text(m[2]!) };
}

let site: BuiltSite;
beforeAll(async () => {
  site = await buildFixtureSite();
}, 180_000);
afterAll(() => site?.cleanup());

describe('the dashboard built from a registry with history', () => {
  it('writes every page: overview, datasets, and per model its page, history, canary and versions', () => {
    const paths = site.result.pages.map((p) => p.path).sort();
    expect(paths).toEqual(
      [
        'datasets.html',
        'index.html',
        `models/${MODEL}/canary.html`,
        `models/${MODEL}/history.html`,
        `models/${MODEL}/index.html`,
        ...site.fixture.versions.map((v) => `models/${MODEL}/versions/${v}.html`),
      ].sort(),
    );
    for (const p of paths) expect(existsSync(join(site.out, p))).toBe(true);
    expect(site.result.files).toContain('.mlops-dashboard');
    expect(site.result.warnings).toEqual([]);
  });

  it('shows the same statuses, dates, rows and metrics as `mlops list --json`', () => {
    const page = site.pages.get(`models/${MODEL}/index.html`)!;
    expect(site.list.map((r) => r.version)).toEqual([...site.fixture.versions].reverse());
    for (const r of site.list) {
      const tr = row(page, 'data-version', r.version);
      expect(cell(tr, 'status').text.split(' ')[0]).toBe(r.status);
      expect(cell(tr, 'created').value).toBe(r.created_at);
      expect(Number(cell(tr, 'rows').value)).toBe(r.dataset.rows);
      for (const [k, v] of Object.entries(r.metrics)) expect(cell(tr, `metric-${k}`).text).toBe(String(v));
      expect(cell(tr, 'reason').text).toBe(r.reason ?? '');
    }
    // The statuses the fixture's history leads to.
    expect(site.list.map((r) => r.status)).toEqual(['canary', 'deprecated', 'production', 'staging']);
  });

  it('puts the plain `git revert` of a canary start and the hand edit in the pointer timeline', () => {
    for (const path of [`models/${MODEL}/index.html`, `models/${MODEL}/history.html`]) {
      const page = site.pages.get(path)!;
      const revert = row(page, 'data-commit', site.fixture.revert);
      expect(revert).toContain('data-kind="revert"');
      expect(revert).toContain('data-by="git-revert"');
      expect(revert).toContain(`reverts <code title="${site.fixture.reverted}">`);
      expect(text(revert)).toContain(`Revert "mlops(${MODEL}): canary-start ${site.fixture.versions[2]}"`);
      expect(text(revert)).toMatch(new RegExp(`${site.fixture.versions[2]} → none`));
      const hand = row(page, 'data-commit', site.fixture.handEdit);
      expect(hand).toContain('data-kind="manual"');
      expect(text(hand)).toContain('20% → 25%');
    }
    // The history page lists the moves `mlops history --json` lists, in its order.
    const history = site.pages.get(`models/${MODEL}/history.html`)!;
    const commits = [...history.matchAll(/<tr data-commit="([0-9a-f]{40})" data-kind="([a-z-]+)" data-by="([a-z-]+)"/g)].map((m) => [m[1], m[2], m[3]]);
    expect(commits).toEqual(site.history.map((m) => [m.commit, m.kind, m.by]));
  });

  it('shows the canary verdict of `mlops canary analyze --json` with its n, k, Λ and bounds per stream', () => {
    const page = site.pages.get(`models/${MODEL}/canary.html`)!;
    const v = site.analysis.verdict;
    expect(page).toContain(`<p class="verdict" data-verdict="${v.verdict}">`);
    for (const s of ['S', 'E', 'Lup', 'Ldown']) {
      const tr = row(page, 'data-stream', s);
      const values = [...tr.matchAll(/data-value="([^"]*)"/g)].map((m) => m[1]);
      const x = v.streams[s];
      const expected = [x.n, x.k, x.rate, x.p_good, x.p_bad, x.llr, x.promote_bound, x.rollback_bound].map((n) => (n === null ? '' : String(n)));
      expect(values).toEqual(expected);
      expect(cell(tr, 'llr').text).toBe(x.llr.toFixed(3));
      expect(cell(tr, 'state').text).toBe(x.state);
    }
    for (const r of v.reasons) expect(text(page)).toContain(text(r.replace(/&/g, '&amp;').replace(/</g, '&lt;')));
    // The trajectory ends at the verdict's Λ: the last row of each stream's table.
    for (const s of ['S', 'E', 'Lup', 'Ldown']) {
      const table = page.slice(page.indexOf(`id="lambda-${s}-data"`));
      const body = table.slice(0, table.indexOf('</tbody>'));
      const last = [...body.matchAll(/<td class="num" data-value="([^"]+)">/g)].pop()!;
      expect(Number(last[1])).toBe(v.streams[s].llr);
    }
    // The hourly charts are drawn, with a table behind each.
    for (const id of ['success-rate', 'error-rate', 'latency', 'volume', 'lambda-S', 'lambda-E', 'lambda-Lup', 'lambda-Ldown']) {
      expect(page).toContain(`aria-labelledby="${id}-t" aria-describedby="${id}-d"`);
      expect(page).toContain(`<title id="${id}-t">`);
    }
  });

  it('overview: production, canary with weight and verdict, last retrain, the open incident', () => {
    const page = site.pages.get('index.html')!;
    const [v1, v2, , v4] = site.fixture.versions;
    expect(text(page.slice(page.indexOf('data-field="production"')))).toMatch(new RegExp(`^[^<]*${v2!.replace(/\./g, '\\.')}`));
    expect(page).toContain(`data-verdict="${site.analysis.verdict.verdict}"`);
    const canary = /<dd data-field="canary">([\s\S]*?)<\/dd>/.exec(page)![1]!;
    expect(text(canary)).toContain(`${v4} at 25% since`);
    const retrain = /<dd data-field="last-retrain">([\s\S]*?)<\/dd>/.exec(page)![1]!;
    expect(text(retrain)).toContain(v4!);
    expect(text(page)).toContain(`canary:${MODEL}@${v4}`);
    expect(text(page)).toContain('inconclusive ×3');
    expect(v1).toBe('v1.0.0');
  });

  it('version page: manifest, metrics against the baseline, shards with hashes, tag and commit', () => {
    const v4 = site.fixture.versions[3]!;
    const page = site.pages.get(`models/${MODEL}/versions/${v4}.html`)!;
    expect(text(/<dd data-field="tag">([\s\S]*?)<\/dd>/.exec(page)![1]!)).toBe(`${MODEL}@${v4}`);
    expect(text(/<dd data-field="tag-commit">([\s\S]*?)<\/dd>/.exec(page)![1]!)).toBe(site.tags[v4]);
    const shards = site.lock.datasets['backlink-outcomes']!.shards;
    expect(shards).toHaveLength(2);
    for (const s of shards) {
      expect(page).toContain(`<code>${s.path}</code>`);
      expect(page).toContain(`title="${s.sha256}"`);
    }
    const auc = row(page, 'data-metric', 'auc');
    expect(text(auc)).toBe('auc 0.851 0.834 +0.0170 (better)');
    expect(text(row(page, 'data-metric', 'log_loss'))).toBe('log_loss 0.418 0.431 −0.0130 (better)');
    expect(page).toContain(`sha256: ${site.list.find((r) => r.version === v4)!.dataset.sha256}`);
    // The first version was trained on the first shard only.
    const first = site.pages.get(`models/${MODEL}/versions/${site.fixture.versions[0]}.html`)!;
    expect(first).toContain(shards[0]!.path);
    expect(first).not.toContain(shards[1]!.path);
  });

  it('datasets page: rows per week by outcome add up to the locked rows', () => {
    const page = site.pages.get('datasets.html')!;
    const ds = site.lock.datasets['backlink-outcomes']!;
    const weeks = [...page.matchAll(/<tr data-week="([0-9-]+)">([\s\S]*?)<\/tr>/g)].map((m) => text(m[2]!).split(' '));
    expect(weeks.length).toBeGreaterThanOrEqual(4);
    const num = (s: string) => Number(s.replace(/,/g, ''));
    let total = 0;
    for (const [week, success, failure, error, rows] of weeks) {
      expect(num(success!) + num(failure!) + num(error!)).toBe(num(rows!));
      expect(new Date(`${week}T00:00:00Z`).getUTCDay()).toBe(1);
      total += num(rows!);
    }
    expect(total).toBe(ds.merged.rows);
    // The fixture writes one error in ten records.
    const errors = weeks.reduce((n, w) => n + num(w[3]!), 0);
    expect(errors).toBeGreaterThan(ds.merged.rows * 0.08);
    expect(errors).toBeLessThan(ds.merged.rows * 0.12);
  });

  it('escapes user-controlled text everywhere: descriptions, reasons, commit messages and authors', () => {
    for (const [path, html] of site.pages) {
      // The only script is the sort script, and no element carries an event handler.
      const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
      expect(scripts.every((s) => s === SORT_SCRIPT), path).toBe(true);
      expect(/<[a-z][^>]*\son[a-z]+\s*=/i.test(html), path).toBe(false);
      expect(html).not.toContain('<img');
      expect(html).not.toContain('<b ');
    }
    const model = site.pages.get(`models/${MODEL}/index.html`)!;
    expect(model).toContain('&lt;img src=x onerror=&quot;window.__xss=&#39;model&#39;&quot;&gt;');
    expect(text(model)).toContain(XSS.reason);
    expect(text(model)).toContain(XSS.message);
    const history = site.pages.get(`models/${MODEL}/history.html`)!;
    expect(history).toContain('weight by hand &lt;script&gt;window.__xss=&quot;message&quot;&lt;/script&gt;');
    const first = site.pages.get(`models/${MODEL}/versions/v1.0.0.html`)!;
    expect(first).toContain('&lt;script&gt;window.__xss = &quot;description&quot;&lt;/script&gt;');
  });

  it('is self-contained: relative links to files that exist, no outside host, CSP hashes that match', () => {
    for (const [path, html] of site.pages) {
      const csp = decode(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!);
      const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
      expect(csp).toContain(`style-src ${hash(STYLE)}`);
      expect(csp).toContain(html.includes('<script>') ? `script-src ${hash(SORT_SCRIPT)}` : "script-src 'none'");
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
      for (const m of html.matchAll(/href="([^"]*)"/g)) {
        const href = m[1]!;
        if (href === 'data:,' || href === '#main') continue;
        expect(href.startsWith('/'), `${path}: ${href}`).toBe(false);
        const [file, fragment] = href.split('#');
        const target = posix.normalize(posix.join(posix.dirname(path), file!));
        expect(site.pages.has(target), `${path} links to ${href}`).toBe(true);
        if (fragment) expect(site.pages.get(target)!, `${path}: ${href}`).toContain(`id="${fragment}"`);
      }
      // Landmarks and a language for assistive technology.
      expect(html).toContain('<html lang="en">');
      expect(html).toContain('<main id="main"');
      expect(html).toContain('<nav aria-label="Site">');
    }
  });

  it('is reproducible: the same registry and instant give the same bytes', async () => {
    // Rebuilt from the pages' own data would need the registry, which the helper removed; the
    // determinism of rendering is checked on a fresh registry below instead.
    const t = registryRepo();
    await registerFake(t.dir, { seed: 'a' });
    await cli(t.dir, 'promote', `${MODEL}@v1.0.0`);
    const at = new Date('2026-12-01T00:00:00Z');
    const outA = join(tempDir(), 'a');
    const outB = join(tempDir(), 'b');
    const a = await buildDashboard({ ctx: await openContext({ dir: t.dir }), out: outA, now: at });
    await buildDashboard({ ctx: await openContext({ dir: t.dir }), out: outB, now: at });
    for (const f of a.files) expect(readFileSync(join(outB, f), 'utf8'), f).toBe(readFileSync(join(outA, f), 'utf8'));
  });
});

describe('the output folder', () => {
  it('refuses a folder that holds something else, and replaces an earlier build whole', async () => {
    const t = registryRepo();
    await registerFake(t.dir, { seed: 'a' });
    const ctx = await openContext({ dir: t.dir });
    // The repository itself is not an output folder.
    await expect(buildDashboard({ ctx, out: t.dir })).rejects.toMatchObject({ code: 'DASHBOARD_OUT_INVALID' });
    const out = join(tempDir(), 'site');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine\n');
    await expect(buildDashboard({ ctx, out })).rejects.toMatchObject({ code: 'DASHBOARD_OUT_INVALID' });
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine\n');

    const out2 = join(tempDir(), 'site');
    await buildDashboard({ ctx, out: out2 });
    // A stale page of an earlier build (a version since removed) does not survive a rebuild.
    const stale = join(out2, `models/${MODEL}/versions/v9.9.9.html`);
    mkdirSync(dirname(stale), { recursive: true });
    writeFileSync(stale, 'old');
    const r = await buildDashboard({ ctx, out: out2 });
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(join(out2, 'index.html'))).toBe(true);
    expect(r.files.every((f) => existsSync(join(out2, f)))).toBe(true);
  });
});

describe('a registry the dashboard can only partly read', () => {
  it('still builds: an unreadable manifest and an unreachable metric source become notices, not failures', async () => {
    const t = registryRepo({ config: { canary: { source: { type: 'prometheus', url: 'http://127.0.0.1:9' } } } });
    await registerFake(t.dir, { seed: 'a' });
    await cli(t.dir, 'promote', `${MODEL}@v1.0.0`);
    await registerFake(t.dir, { seed: 'b', dataset: 'mlops.config.json' });
    await canaryStart(await openContext({ dir: t.dir, now: () => new Date('2026-12-01T00:00:00Z') }), { model: MODEL, version: 'v1.1.0' });
    const ctx = await openContext({ dir: t.dir });
    const out = join(tempDir(), 'site');
    const ok = await buildDashboard({ ctx, out, now: new Date('2026-12-01T02:00:00Z') });
    expect(ok.warnings.join('\n')).toContain('the canary could not be analysed (METRICS_SOURCE_FAILED');
    const canary = readFileSync(join(out, `models/${MODEL}/canary.html`), 'utf8');
    expect(canary).toContain('The canary could not be analysed');
    expect(canary).not.toContain(t.dir);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('source failed');

    // A broken manifest: the model's page says so and names the code; the rest is built.
    writeFileSync(join(t.dir, `registry/${MODEL}/versions/v1.0.0/manifest.yaml`), 'apiVersion: mlops/v1\nkind: ModelVersion\n');
    const broken = await buildDashboard({ ctx: await openContext({ dir: t.dir }), out, now: new Date('2026-12-01T02:00:00Z') });
    expect(broken.warnings.join('\n')).toMatch(/backlink-success: the model could not be read \(MANIFEST_INVALID/);
    const model = readFileSync(join(out, `models/${MODEL}/index.html`), 'utf8');
    expect(model).toContain('This model could not be read');
    expect(model).toContain('MANIFEST_INVALID');
    expect(model).not.toContain(t.dir);
    expect(existsSync(join(out, 'datasets.html'))).toBe(true);
  });
});

describe('the pointer history cache', () => {
  it('follows new commits, merges and rewritten history exactly as `mlops history` reads them', async () => {
    const t = registryRepo();
    await registerFake(t.dir, { seed: 'a' });
    await cli(t.dir, 'promote', `${MODEL}@v1.0.0`);
    const out = join(tempDir(), 'site');
    const timeline = async () => {
      await buildDashboard({ ctx: await openContext({ dir: t.dir }), out, now: new Date('2026-12-01T00:00:00Z') });
      const page = readFileSync(join(out, `models/${MODEL}/history.html`), 'utf8');
      return [...page.matchAll(/<tr data-commit="([0-9a-f]{40})" data-kind="([a-z-]+)"/g)].map((m) => `${m[1]} ${m[2]}`);
    };
    // Uncached: `ref` makes readHistory read git log directly.
    const expected = async () => (await readHistory(await openContext({ dir: t.dir }), MODEL, { ref: 'HEAD' })).map((m) => `${m.commit} ${m.kind}`);
    expect(await timeline()).toEqual(await expected());
    expect(existsSync(join(t.dir, `.mlops/cache/history-${MODEL}.json`))).toBe(true);
    // New commits on top: read incrementally.
    await registerFake(t.dir, { seed: 'b' });
    await cli(t.dir, 'canary', 'start', `${MODEL}@v1.1.0`);
    expect(await timeline()).toEqual(await expected());
    // A merge of a side branch made earlier: read whole again.
    const dep = join(t.dir, `registry/${MODEL}/deployments.yaml`);
    t.git('checkout', '-q', '-b', 'side', 'HEAD~1');
    writeFileSync(dep, readFileSync(dep, 'utf8').replace('canary: null', 'canary: null\n# note'));
    t.git('commit', '-q', '-am', 'hand note on a side branch');
    t.git('checkout', '-q', 'main');
    t.git('merge', '-q', '--no-edit', 'side');
    expect(await timeline()).toEqual(await expected());
    // History rewritten under the cache (a reset): read whole again.
    t.git('reset', '-q', '--hard', 'HEAD~2');
    const after = await expected();
    expect(await timeline()).toEqual(after);
    expect(after.length).toBeGreaterThan(0);
  });
});

