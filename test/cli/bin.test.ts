// The built `mlops` binary as users run it: a real process, its exit status and its streams.
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { registryRepo, registerFake, cli } from '../helpers/registry.js';

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const run = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe('the mlops binary', () => {
  it('prints help with examples, its version, and exits 2 on a usage error with a JSON error under --json', () => {
    const t = registryRepo();
    const help = run(t.dir, '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Examples:');
    for (const c of ['register', 'canary', 'rollback', 'retrain', 'serve', 'dashboard', 'demo']) expect(help.stdout).toContain(c);
    expect(run(t.dir, 'rollback', '--help').stdout).toContain('$ mlops rollback');
    expect(run(t.dir, '--version').stdout.trim()).toBe(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
    const bad = run(t.dir, 'promote', '--json');
    expect(bad.status).toBe(2);
    expect(JSON.parse(bad.stderr.trim().split('\n').pop()!).error.code).toBe('USAGE');
    const missing = run(t.dir, 'show', 'backlink-success@v9.9.9', '--json');
    expect(missing.status).toBe(1);
    expect(JSON.parse(missing.stderr).error).toMatchObject({ code: 'VERSION_NOT_FOUND', hint: expect.any(String) });
    expect(missing.stdout).toBe('');
    // Thrown by a module the bundled binary loads from dist/, with its own copy of errors.js.
    const notRegistered = run(t.dir, 'promote', 'backlink-success@v9.9.9', '--json');
    expect(notRegistered.status).toBe(1);
    expect(JSON.parse(notRegistered.stderr).error).toMatchObject({ code: 'VERSION_NOT_FOUND', hint: expect.any(String) });
  });

  it('ends quietly when its reader closes the pipe early (mlops ... | head)', async () => {
    const t = registryRepo();
    const child = spawn(process.execPath, [bin, '--help'], { cwd: t.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // closed before the help is written: the write fails with EPIPE
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(err).toBe('');
    expect(code).toBe(0);
  });

  it('serves until SIGTERM, then drains and exits 0; the dashboard appears at /', async () => {
    const t = registryRepo();
    await registerFake(t.dir, { seed: 'a' });
    await cli(t.dir, 'promote', 'backlink-success@v1.0.0');
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--json'], { cwd: t.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /"url":\s*"([^"]+)"/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    let stderr = '';
    // The first dashboard build runs in a child process: wait for its log line, not a fixed time.
    const built = new Promise<void>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/dashboard-(built|failed)/.test(stderr)) resolve();
      }),
    );
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await built;
    expect(stderr).toContain('dashboard-built');
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('backlink-success');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
