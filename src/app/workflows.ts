// The GitHub Actions workflows of a registry repository (SPEC 9), generated from its
// configuration: `mlops init` writes them into another repository, and this repository's own
// .github/workflows are the same text (a test keeps them equal). Two flavours:
// - `source`: the repository holds the tool's source (this one): `npm ci`, then `npx mlops`;
// - `action`: any other repository: the composite action of this repository runs the tool.
// Least privilege per workflow, one concurrency group per model, actions pinned by commit SHA,
// no workflow that runs pull-request code gets a write token.
import type { MlopsConfig } from '../config/config.js';

/** Actions pinned to the commit of a release (the comment names the release). */
export const PINNED = {
  checkout: 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2',
  setupNode: 'actions/setup-node@39370e3970a6d050c480ffad4ff0ed4d3fdee5af # v4.1.0',
  uploadPages: 'actions/upload-pages-artifact@56afc609e74202658d3ffba0e8f6dda462b719fa # v3.0.1',
  deployPages: 'actions/deploy-pages@d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e # v4.0.5',
} as const;

/** The composite action other repositories use (replace with your fork). */
export const DEFAULT_ACTION_REF = 'mlops-gitops/mlops-gitops@v0.1.0';

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** The retrain cron of `retrain.schedule/day/time` (UTC), or null for manual retrains. */
export function retrainCron(r: Pick<MlopsConfig['retrain'], 'schedule' | 'day' | 'time'>): string | null {
  if (r.schedule === 'manual') return null;
  const [h, m] = r.time.split(':').map(Number);
  return r.schedule === 'daily' ? `${m} ${h} * * *` : `${m} ${h} * * ${DAYS.indexOf(r.day)}`;
}

export interface WorkflowOptions {
  config: Pick<MlopsConfig, 'model' | 'retrain' | 'forge'>;
  flavour: 'source' | 'action';
  actionRef?: string;
}

const BOT_IDENTITY = `      - name: Commit as the mlops bot
        run: |
          git config user.name "mlops-bot"
          git config user.email "mlops-bot@users.noreply.github.com"
`;

export function workflowFiles(opts: WorkflowOptions): Record<string, string> {
  const { model, retrain, forge } = opts.config;
  const base = forge.base;
  const actionRef = opts.actionRef ?? DEFAULT_ACTION_REF;
  // Writes need a token whose pushes and PRs trigger the other workflows; GITHUB_TOKEN's do not.
  const checkout = (write: boolean) => `      - uses: ${PINNED.checkout}
        with:
          fetch-depth: 0
${write ? '          token: ${{ secrets.MLOPS_TOKEN || github.token }}\n' : '          persist-credentials: false\n'}`;
  const setup = opts.flavour === 'source'
    ? `      - uses: ${PINNED.setupNode}
        with:
          node-version: 20
          cache: npm
      - run: npm ci --no-audit --no-fund
`
    : '';
  const mlops = (name: string, command: string, extraEnv = '') =>
    opts.flavour === 'source'
      ? `      - name: ${name}
        run: npx mlops ${command}
${extraEnv}`
      : `      - name: ${name}
        uses: ${actionRef}
        with:
          command: ${command}
${extraEnv}`;
  const tokens = `        env:
          MLOPS_TOKEN: \${{ secrets.MLOPS_TOKEN }}
          GITHUB_TOKEN: \${{ github.token }}
          MLOPS_WEBHOOK_URL: \${{ secrets.MLOPS_WEBHOOK_URL }}
          MLOPS_PROMETHEUS_URL: \${{ secrets.MLOPS_PROMETHEUS_URL }}
`;
  // Outcomes from the fleet of `mlops serve` replicas, pulled into the job's store (not sealed).
  // The replica URLs are a secret (internal addresses), exposed to the job as env so a step's
  // `if` can test it (secrets cannot appear in `if`).
  const jobEnv = `    env:
      MLOPS_OUTCOME_SOURCES: \${{ secrets.MLOPS_OUTCOME_SOURCES }}
`;
  const pull = (opts.flavour === 'source'
    ? `      - name: Pull outcomes from the serving replicas
        if: env.MLOPS_OUTCOME_SOURCES != ''
        run: npx mlops data pull --from $MLOPS_OUTCOME_SOURCES
`
    : `      - name: Pull outcomes from the serving replicas
        if: env.MLOPS_OUTCOME_SOURCES != ''
        uses: ${actionRef}
        with:
          command: data pull --from \${{ env.MLOPS_OUTCOME_SOURCES }}
`) + `        env:
          MLOPS_SERVE_TOKEN: \${{ secrets.MLOPS_SERVE_TOKEN }}
`;
  const concurrency = `concurrency:
  group: mlops-${model}
  cancel-in-progress: false
`;
  const cron = retrainCron(retrain);

  const files: Record<string, string> = {};
  files['.github/workflows/retrain.yml'] = `# Weekly retrain of ${model}: collect, train, validate, register, open or update the one PR.
name: retrain
on:
${cron ? `  schedule:\n    - cron: '${cron}'\n` : ''}  workflow_dispatch: {}
permissions:
  contents: write
  pull-requests: write
  issues: write
${concurrency}jobs:
  retrain:
    runs-on: ubuntu-latest
    timeout-minutes: 60
${jobEnv}    steps:
${checkout(true)}${setup}${BOT_IDENTITY}${pull}${mlops('Retrain', `retrain --model ${model}`, tokens)}`;

  files['.github/workflows/canary.yml'] = `# Hourly canary judge of ${model}: promote (PR), roll back (git revert), step the weight, or hold and alert.
name: canary
on:
  schedule:
    - cron: '17 * * * *'
  workflow_dispatch: {}
permissions:
  contents: write
  pull-requests: write
  issues: write
${concurrency}jobs:
  canary:
    runs-on: ubuntu-latest
    timeout-minutes: 20
${jobEnv}    steps:
${checkout(true)}${setup}${BOT_IDENTITY}${pull}${mlops('Canary check', `canary check ${model}`, tokens)}`;

  files['.github/workflows/registry.yml'] = `# On every change of the registry on ${base}: check the invariants, then tag new versions.
name: registry
on:
  push:
    branches: [${base}]
    paths:
      - 'registry/**'
      - 'datasets.lock'
      - 'datasets/**'
  workflow_dispatch: {}
permissions:
  contents: write
${concurrency}jobs:
  registry:
    runs-on: ubuntu-latest
    timeout-minutes: 15
    steps:
${checkout(true)}${setup}${BOT_IDENTITY}${mlops('Verify the registry', 'verify')}${mlops('Tag new versions', 'tags sync --push')}`;

  files['.github/workflows/pages.yml'] = `# The dashboard on GitHub Pages, rebuilt when the registry changes and every hour.
name: pages
on:
  push:
    branches: [${base}]
    paths:
      - 'registry/**'
      - 'datasets.lock'
  schedule:
    - cron: '43 * * * *'
  workflow_dispatch: {}
permissions:
  contents: read
concurrency:
  group: pages
  cancel-in-progress: true
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 15
${jobEnv}    steps:
${checkout(false)}${setup}${pull}${mlops('Build the dashboard', 'dashboard --out _site')}      - uses: ${PINNED.uploadPages}
        with:
          path: _site
  deploy:
    needs: build
    runs-on: ubuntu-latest
    permissions:
      pages: write
      id-token: write
    environment:
      name: github-pages
      url: \${{ steps.deployment.outputs.page_url }}
    steps:
      - id: deployment
        uses: ${PINNED.deployPages}
`;

  if (opts.flavour === 'source') {
    // Pull requests run untrusted code: read-only token, no secrets.
    files['.github/workflows/ci.yml'] = `# The test suite on every push and pull request (read-only: pull requests run untrusted code).
name: ci
on:
  push:
    branches: [${base}]
  pull_request: {}
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
${checkout(false)}${setup}      - run: npm test
`;
  }
  return files;
}

/** action.yml of this repository: the composite action other repositories `uses:`. */
export function compositeAction(): string {
  return `# Runs one mlops command (retrain, canary check, verify, tags sync --push, dashboard --out DIR,
# data pull --from URL...) in the calling repository, which must be a registry (mlops init).
name: mlops-gitops
description: Git-backed model registry - weekly retrain PRs, canary judgement, rollback by git revert
branding:
  icon: git-pull-request
  color: green
inputs:
  command:
    description: The mlops command line after "mlops", e.g. "retrain" or "canary check backlink-success"
    required: true
  node-version:
    description: Node.js version to run the tool with
    required: false
    default: '20'
runs:
  using: composite
  steps:
    - uses: ${PINNED.setupNode}
      with:
        node-version: \${{ inputs.node-version }}
    - name: Install mlops
      shell: bash
      run: npm ci --prefix "$GITHUB_ACTION_PATH" --no-audit --no-fund
    - name: mlops \${{ inputs.command }}
      shell: bash
      env:
        MLOPS_COMMAND: \${{ inputs.command }}
      # Word splitting of the command is intended; the input comes from the workflow's author.
      run: node "$GITHUB_ACTION_PATH/dist/cli/main.js" $MLOPS_COMMAND
`;
}
