/**
 * The request code against a real `jupyter lab` (started by @jupyterlab/testing's JupyterServer
 * with a token, from the PATH, so `make test` puts the project's venv first) serving a real
 * zenml-notebook repository that the CLI prepared. Nothing here is mocked.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { ServerConnection } from '@jupyterlab/services';
import { JupyterServer } from '@jupyterlab/testing';

import { ApiError, ZenmlApi } from '../src/api';

const server = new JupyterServer();
const HARNESS_TMP = '/tmp/jupyterServer'; // where JupyterServer makes its config/data/root folders
const harnessBefore = new Set(fs.existsSync(HARNESS_TMP) ? fs.readdirSync(HARNESS_TMP) : []);
const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'zn-jest-')));
let runName = '';

function cli(...args: string[]): string {
  return execFileSync('zenml-notebook', args, { cwd: root, encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('the request was expected to fail');
}

beforeAll(async () => {
  cli('init');
  cli('stack', 'register', 'other', '-m', 'default', '-a', 'default', '-o', 'default');
  fs.mkdirSync(path.join(root, 'notebooks'));
  fs.mkdirSync(path.join(root, '.zenml', 'artifacts', 'demo'), { recursive: true });
  fs.writeFileSync(path.join(root, '.zenml', 'artifacts', 'demo', 'hello.json'), '{"hello": "<b>world</b>"}');
  const script = [
    'from zenml_notebook import pipeline, step',
    '@step',
    'def make(n: int = 3) -> list:',
    '    return list(range(n))',
    '@pipeline',
    'def jest_pipeline():',
    '    make()',
    'print(jest_pipeline().name)'
  ].join('\n');
  runName = execFileSync('python', ['-c', script], { cwd: root, encoding: 'utf-8' }).trim().split('\n').pop()!;
  console.debug = () => undefined; // the harness echoes every server log line at debug level
  await server.start({
    configData: {
      ServerApp: { root_dir: root, allow_root: process.getuid?.() === 0, log_level: 'INFO' },
      LabApp: { log_level: 'INFO' }
    }
  });
}, 120000);

afterAll(async () => {
  await server.shutdown();
  fs.rmSync(root, { recursive: true, force: true });
  for (const name of fs.existsSync(HARNESS_TMP) ? fs.readdirSync(HARNESS_TMP) : []) {
    if (!harnessBefore.has(name)) {
      fs.rmSync(path.join(HARNESS_TMP, name), { recursive: true, force: true });
    }
  }
});

describe('ZenmlApi', () => {
  it('lists the stacks of the repository and which is active', async () => {
    const stacks = await new ZenmlApi().getStacks('');
    expect(stacks.repository).toBe(root);
    expect(stacks.active).toBe('default');
    expect(stacks.stacks.map(s => s.name).sort()).toEqual(['default', 'other']);
    expect(stacks.stacks.find(s => s.name === 'default')!.components.metadata_store.flavor).toBe('sqlite');
  });

  it('finds the repository from the notebook folder, and refuses folders outside the root', async () => {
    const api = new ZenmlApi();
    expect((await api.getStacks('notebooks')).repository).toBe(root);
    const error = await failure(api.getStacks('../..'));
    expect(error.status).toBe(400);
    expect(error.message).toBe("cwd '../..' is outside the server's root folder");
  });

  it('switches the active stack with a POST the CLI then sees', async () => {
    const api = new ZenmlApi();
    expect(await api.setActiveStack('', 'other')).toEqual({ active: 'other' });
    expect(cli('stack', 'get').trim()).toBe("active stack: 'other'");
    const error = await failure(api.setActiveStack('', 'nope'));
    expect(error.status).toBe(404);
    expect(error.message.startsWith("stack 'nope' does not exist")).toBe(true);
    await api.setActiveStack('', 'default');
  });

  it('lists and previews artifacts, markup coming back as data', async () => {
    const api = new ZenmlApi();
    const top = await api.listArtifacts('', '');
    expect(top.entries.map(e => e.name)).toEqual(expect.arrayContaining(['demo', 'jest_pipeline']));
    const demo = await api.listArtifacts('', 'demo', 0, 10);
    expect(demo.entries).toEqual([expect.objectContaining({ name: 'hello.json', kind: 'file', size: 25 })]);
    expect(demo.limit).toBe(10);
    const preview = await api.previewArtifact('', 'demo/hello.json');
    expect(preview.kind).toBe('json');
    expect(preview.text).toContain('<b>world</b>');
    const error = await failure(api.listArtifacts('', '../../etc'));
    expect(error.status).toBe(400);
    expect(error.message).toBe("path '../../etc' leaves the store ('..'); give a path inside the store");
  });

  it('lists runs and one run with its steps and artifacts', async () => {
    const api = new ZenmlApi();
    const { runs } = await api.listRuns('');
    expect(runs.map(r => [r.name, r.pipeline, r.state])).toEqual([[runName, 'jest_pipeline', 'complete']]);
    const run = await api.getRun('', runName);
    expect(run.steps.map(s => s.name)).toEqual(['make']);
    expect(run.steps[0].outputs[0].path).toBe(`jest_pipeline/${runName}/make/output.json`);
    expect((await failure(api.getRun('', 'no such run'))).status).toBe(404);
  });

  it('explains a wrong token and an unreachable server', async () => {
    const wrongToken = new ZenmlApi(ServerConnection.makeSettings({ token: 'not-the-token' }));
    const denied = await failure(wrongToken.getStacks(''));
    expect(denied.status).toBe(403);
    const gone = new ZenmlApi(ServerConnection.makeSettings({ baseUrl: 'http://127.0.0.1:9/', wsUrl: 'ws://127.0.0.1:9/' }));
    const error = await failure(gone.getStacks(''));
    expect(error.status).toBe(0);
    expect(error.message.startsWith('the Jupyter server cannot be reached')).toBe(true);
  });
});
