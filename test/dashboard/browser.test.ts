// Opens every page of the built site in Debian's headless Chromium (through playwright-core),
// from file:// and from a loopback HTTP server: no console error, no failed or outside request,
// the numbers equal the CLI's JSON, sorting works by mouse and keyboard, and a screenshot of
// each page is kept under test-artifacts/dashboard/.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { MODEL } from './fixture.js';
import { buildFixtureSite, type BuiltSite } from './site.js';

// Browser globals inside page.evaluate callbacks (the project compiles without the DOM library).
declare const window: any;
declare const document: any;
declare function getComputedStyle(e: unknown): { backgroundColor: string };
type HTMLElement = any;

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'dashboard');
const available = existsSync(CHROMIUM);
if (!available) console.warn(`dashboard browser test skipped: ${CHROMIUM} is absent (install Debian's chromium package to run it)`);

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.json': 'application/json' };

/** A tiny static server over the site folder, on loopback. */
function serve(root: string): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!)).replace(/^[/\\]+/, '');
    const file = join(root, path.endsWith('/') || path === '' ? join(path, 'index.html') : path);
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` })));
}

interface Visit {
  page: Page;
  problems: string[];
}

/** Opens a URL and records every console error, page error, failed request and request outside `base`. */
async function visit(browser: Browser, url: string, base: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Visit> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push(`outside request: ${r.url()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems };
}

describe.skipIf(!available)('the dashboard in headless Chromium', () => {
  let site: BuiltSite;
  let browser: Browser;
  let http: { server: Server; base: string };
  const fileBase = () => pathToFileURL(site.out).href + '/';

  beforeAll(async () => {
    site = await buildFixtureSite();
    http = await serve(site.out);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (http ? http.server.close(r) : r(null)));
    site?.cleanup();
  });

  it('loads every page from file:// and over loopback HTTP without an error or an outside request, and saves screenshots', async () => {
    for (const p of site.result.pages) {
      for (const [base, kind] of [[fileBase(), 'file'], [http.base, 'http']] as const) {
        const { page, problems } = await visit(browser, base + p.path, base);
        expect(problems, `${kind} ${p.path}`).toEqual([]);
        expect(await page.title()).toContain(p.title);
        // Injected markup in descriptions, messages and authors never ran.
        expect(await page.evaluate(() => window.__xss)).toBeUndefined();
        // Every chart has an accessible name that resolves.
        const unnamed = await page.$$eval('svg[role="img"]', (svgs) => svgs.filter((s) => !document.getElementById(s.getAttribute('aria-labelledby') ?? '')?.textContent).length);
        expect(unnamed).toBe(0);
        if (kind === 'file') await page.screenshot({ path: join(ARTIFACTS, `${p.path.replace(/\//g, '_').replace(/\.html$/, '')}.png`), fullPage: true });
        await page.close();
      }
    }
    for (const path of ['index.html', `models/${MODEL}/index.html`, `models/${MODEL}/canary.html`, 'datasets.html']) {
      const { page, problems } = await visit(browser, fileBase() + path, fileBase(), 'dark');
      expect(problems).toEqual([]);
      // Dark pages are dark: the background follows prefers-color-scheme.
      expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(17, 20, 24)');
      await page.screenshot({ path: join(ARTIFACTS, `${path.replace(/\//g, '_').replace(/\.html$/, '')}-dark.png`), fullPage: true });
      await page.close();
    }
  }, 300_000);

  it('shows the numbers of `mlops list --json` and of the canary verdict JSON', async () => {
    const { page } = await visit(browser, fileBase() + `models/${MODEL}/index.html`, fileBase());
    const rows = await page.$$eval('#versions-table tbody tr', (trs) =>
      trs.map((tr) => ({
        version: (tr as HTMLElement).dataset.version,
        status: tr.querySelector('[data-col="status"] .badge')!.textContent,
        rows: tr.querySelector('[data-col="rows"]')!.textContent,
        auc: tr.querySelector('[data-col="metric-auc"]')!.textContent,
        log_loss: tr.querySelector('[data-col="metric-log_loss"]')!.textContent,
        reason: tr.querySelector('[data-col="reason"]')!.textContent,
      })),
    );
    expect(rows).toEqual(
      site.list.map((r) => ({
        version: r.version,
        status: r.status,
        rows: r.dataset.rows.toLocaleString('en-US'),
        auc: String(r.metrics.auc),
        log_loss: String(r.metrics.log_loss),
        reason: r.reason ?? '',
      })),
    );
    await page.close();

    const canary = (await visit(browser, fileBase() + `models/${MODEL}/canary.html`, fileBase())).page;
    const v = site.analysis.verdict;
    expect(await canary.getAttribute('[data-verdict]', 'data-verdict')).toBe(v.verdict);
    const streams = await canary.$$eval('#streams-table tbody tr', (trs) =>
      trs.map((tr) => ({
        stream: (tr as HTMLElement).dataset.stream,
        values: [...tr.querySelectorAll('td[data-value]')].map((td) => td.getAttribute('data-value')),
        llr: tr.querySelector('[data-col="llr"]')!.textContent,
        state: tr.querySelector('[data-col="state"]')!.textContent,
      })),
    );
    expect(streams).toEqual(
      ['S', 'E', 'Lup', 'Ldown'].map((s) => {
        const x = v.streams[s];
        return {
          stream: s,
          values: [x.n, x.k, x.rate, x.p_good, x.p_bad, x.llr, x.promote_bound, x.rollback_bound].map((n) => (n === null ? '' : String(n))),
          llr: x.llr.toFixed(3),
          state: x.state,
        };
      }),
    );
    const overview = (await visit(browser, fileBase() + 'index.html', fileBase())).page;
    expect(await overview.getAttribute('[data-model] [data-verdict]', 'data-verdict')).toBe(v.verdict);
    await canary.close();
    await overview.close();
  });

  it('sorts the versions table by a click on a header, and by keyboard', async () => {
    const { page, problems } = await visit(browser, fileBase() + `models/${MODEL}/index.html`, fileBase());
    const table = page.locator('#versions-table');
    const order = () => table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.version));
    const byAuc = [...site.list].sort((a, b) => a.metrics.auc - b.metrics.auc).map((r) => r.version);
    const auc = table.getByRole('button', { name: 'auc' });
    await auc.click();
    expect(await order()).toEqual(byAuc);
    expect(await auc.locator('xpath=..').getAttribute('aria-sort')).toBe('ascending');
    await auc.click();
    expect(await order()).toEqual([...byAuc].reverse());
    expect(await auc.locator('xpath=..').getAttribute('aria-sort')).toBe('descending');
    // Keyboard: the header buttons are focusable and Enter sorts.
    const created = table.getByRole('button', { name: 'Created' });
    await created.focus();
    expect(await created.evaluate((b) => b === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    expect(await order()).toEqual([...site.list].sort((a, b) => (a.created_at < b.created_at ? -1 : 1)).map((r) => r.version));
    // Status sorts by stage rank, not alphabetically: production first.
    await table.getByRole('button', { name: 'Status' }).click();
    expect(await order()).toEqual(['production', 'canary', 'staging', 'deprecated'].map((s) => site.list.find((r) => r.status === s)!.version));
    expect(await page.locator('#sort-status').textContent()).toBe('Sorted by Status, ascending');
    expect(problems).toEqual([]);
    await page.close();
  });
});
