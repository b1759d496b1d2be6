// Unit tests of the sidebar's pure helpers (formatting, paths, query strings, image safety).
import {
  breadcrumb,
  describeStepTime,
  describeParameters,
  safeHref,
  describeRun,
  formatDuration,
  chartBars,
  ChangeWatcher,
  defaultChart,
  describeChange,
  describeComponent,
  describeRegistry,
  dirname,
  formatWhen,
  humanSize,
  imageSource,
  loadCode,
  IPreview,
  pageLabel,
  parentPath,
  query,
  stacksChanged
} from '../src/model';

describe('model', () => {
  it('formats sizes like the CLI', () => {
    expect(humanSize(null)).toBe('');
    expect(humanSize(17)).toBe('17 B');
    expect(humanSize(2048)).toBe('2.0 KiB');
    expect(humanSize(5 * 1024 * 1024)).toBe('5.0 MiB');
  });

  it('splits paths', () => {
    expect(dirname('a/b/c.ipynb')).toBe('a/b');
    expect(dirname('c.ipynb')).toBe('');
    expect(parentPath('run/step/')).toBe('run');
    expect(parentPath('')).toBe('');
  });

  it('encodes query strings and drops empty values', () => {
    expect(query({ cwd: '', path: 'a b/../c', offset: 0, limit: 100 })).toBe('path=a%20b%2F..%2Fc&offset=0&limit=100');
    expect(query({ x: null, y: undefined })).toBe('');
  });

  it('notices stack changes', () => {
    const a = { repository: '/r', active: 'default', stacks: [] };
    expect(stacksChanged(null, a)).toBe(true);
    expect(stacksChanged(a, { ...a })).toBe(false);
    expect(stacksChanged(a, { ...a, active: 'other' })).toBe(true);
  });

  it('allows only raster images with clean base64', () => {
    const base: IPreview = {
      path: 'p', kind: 'image', size: 1, modified: null, text: null, rows: [], truncated: false, note: '', mime: null, data_base64: null
    };
    expect(imageSource({ ...base, mime: 'image/png', data_base64: 'iVBORw0KGgo=' })).toBe('data:image/png;base64,iVBORw0KGgo=');
    expect(imageSource({ ...base, mime: 'image/svg+xml', data_base64: 'PHN2Zz4=' })).toBeNull();
    expect(imageSource({ ...base, mime: 'image/png', data_base64: "x' onerror='alert(1)" })).toBeNull();
    expect(imageSource({ ...base, kind: 'text', mime: 'image/png', data_base64: 'AAAA' })).toBeNull();
  });

  it('labels components, pages and times', () => {
    expect(describeComponent({ name: 'd', flavor: 'sqlite', config: { uri: '.zenml/metadata.db' } })).toBe('sqlite · uri=.zenml/metadata.db');
    expect(describeComponent({ name: 'd', flavor: 'local', config: {} })).toBe('local');
    expect(pageLabel({ store: 's', path: '', entries: new Array(100), total: 250, offset: 100, limit: 100 })).toBe('101-200 of 250');
    expect(pageLabel({ store: 's', path: '', entries: [], total: 0, offset: 0, limit: 100 })).toBe('empty');
    expect(formatWhen(1700000000).startsWith('2023-11-')).toBe(true);
  });
});

describe('where the stacks live and who changed them', () => {
  it('names the registry, and says when the shared one answered from its stale copy', () => {
    expect(describeRegistry(undefined)).toBe('Registry: local (this repository)');
    expect(describeRegistry({ kind: 'local', url: '/r/.zenml/zenml.db', stale: false })).toBe('Registry: local (this repository)');
    expect(describeRegistry({ kind: 'shared', url: 'mysql://ana@db:3306/team', stale: false })).toBe('Registry: shared · mysql://ana@db:3306/team');
    expect(describeRegistry({ kind: 'shared', url: 'mysql://ana@db:3306/team', stale: true }))
      .toBe('Registry: shared · mysql://ana@db:3306/team · stale copy (the server did not answer)');
  });

  it('says when and by whom a stack changed, in local time, with the date when not today', () => {
    const at = new Date(2026, 10, 29, 14, 2);
    const stack = { name: 'prod', active: true, components: {}, changed: at.toISOString(), changed_by: 'ana@laptop' };
    expect(describeChange(stack, new Date(2026, 10, 29, 18, 0))).toBe('changed 14:02 by ana@laptop');
    expect(describeChange(stack, new Date(2026, 10, 30, 9, 0))).toBe('changed 2026-11-29 14:02 by ana@laptop');
    expect(describeChange({ ...stack, changed_by: '' }, new Date(2026, 10, 29, 18, 0))).toBe('changed 14:02');
    expect(describeChange({ ...stack, changed: undefined })).toBe('');
    expect(describeChange({ ...stack, changed: 'not a time' })).toBe('');
  });
});

describe('the change watcher behind the sidebar poll', () => {
  it('asks nothing while the panel or the page is hidden', () => {
    const w = new ChangeWatcher();
    expect(w.shouldAsk(false, false)).toBe(false);
    expect(w.shouldAsk(true, true)).toBe(false);
    expect(w.shouldAsk(true, false)).toBe(true);
  });

  it('reloads only when the token differs from the last one', () => {
    const w = new ChangeWatcher();
    expect(w.changed('1:default:3.100:7')).toBe(false); // the first answer: the panel is fresh already
    expect(w.changed('1:default:3.100:7')).toBe(false);
    expect(w.changed('1:default:3.100:8')).toBe(true); // a step was recorded
    expect(w.changed('1:default:3.100:8')).toBe(false);
    expect(w.known()).toBe(true);
    w.reset();
    expect(w.known()).toBe(false); // shown next: load everything, then watch
    expect(w.changed('9:other:0:0')).toBe(false);
  });
});

describe('the compare model', () => {
  const cmp = {
    runs: ['a', 'b', 'c'],
    rows: [{ key: 'fit.lr', values: ['0.1', '0.2', '0.4'], differs: true }],
    scalars: { 'load -> output': { a: 3, b: 3, c: 3 }, 'score -> output': { a: 0.5, b: -1, c: 2 } }
  };

  it('charts the first scalar output that differs', () => {
    expect(defaultChart(cmp)).toBe('score -> output');
    expect(defaultChart({ ...cmp, scalars: { 'x -> y': { a: 1, b: 1 } } })).toBe('x -> y');
    expect(defaultChart({ ...cmp, scalars: {} })).toBeNull();
  });

  it('scales bars by the largest magnitude, in run order', () => {
    expect(chartBars(cmp, 'score -> output', 100)).toEqual([
      { run: 'a', value: 0.5, length: 25 },
      { run: 'b', value: -1, length: 50 },
      { run: 'c', value: 2, length: 100 }
    ]);
    expect(chartBars(cmp, 'missing', 100)).toEqual([]);
  });
});

describe('breadcrumb and load code', () => {
  it('makes every folder of the path a segment', () => {
    expect(breadcrumb('/r/.zenml/artifacts', 'explore/run-1/make')).toEqual([
      { label: 'artifacts', path: '' },
      { label: 'explore', path: 'explore' },
      { label: 'run-1', path: 'explore/run-1' },
      { label: 'make', path: 'explore/run-1/make' }
    ]);
    expect(breadcrumb('gs://bucket/runs/', '')).toEqual([{ label: 'runs', path: '' }]);
  });

  it('writes Python with every name as a string literal', () => {
    expect(loadCode({ run: 'r-1', step: 'fit', output: 'model' }, 'x')).toBe(
      'from zenml_notebook import Client\n\nClient().get_run("r-1").output("fit", "model")');
    expect(loadCode(null, 'a/"b".json')).toBe('from zenml_notebook import Client\n\nClient().load("a/\\"b\\".json")');
  });
});

describe('a run in one line', () => {
  it('says state, duration, cached steps, stack and parameters', () => {
    const run = { name: 'r', pipeline: 'p', state: 'complete', started: 0, ended: 1, duration: 0.4215, steps: 5, cached: 3, stack: 'team',
      parameters: { 'fit.lr': 0.1, 'load.path': 'data.csv' } };
    expect(describeRun(run)).toBe('complete · 0.42 s · 3/5 cached · stack team · lr=0.1, path=data.csv');
    expect(describeRun({ ...run, duration: null, steps: 0, stack: null, parameters: {} })).toBe('complete');
    expect(describeRun({ ...run, user: 'ana@laptop', parameters: {} })).toBe('complete · 0.42 s · 3/5 cached · stack team · by ana@laptop');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(72.4)).toBe('1 min 12 s');
    expect(formatDuration(3.006)).toBe('3.01 s'); // not "3006 ms"
    expect(formatDuration(42.5)).toBe('42.5 s');
    expect(formatDuration(0.0042)).toBe('4.2 ms');
    expect(formatDuration(7500)).toBe('2 h 5 min');
    expect(formatDuration(-1)).toBe('');
  });
});

describe('a step in one line', () => {
  it('lists its parameters as JSON values', () => {
    expect(describeParameters({ lr: 0.1, name: 'x', layers: [2, 3] })).toBe('lr=0.1, name=x, layers=[2,3]');
    expect(describeParameters({})).toBe('');
  });
});

describe("a step's time", () => {
  it('adds reading inputs and writing outputs when they took any', () => {
    const step = { name: 's', state: 'complete', duration: 0.012, parameters: {}, error: '', outputs: [] };
    expect(describeStepTime(step)).toBe('12 ms');
    expect(describeStepTime({ ...step, load: 0.003, store: 0.0405 })).toBe('12 ms · load 3.0 ms · store 41 ms');
    expect(describeStepTime({ ...step, duration: 3.006, store: 95.2 })).toBe('3.01 s · store 1 min 35 s');
  });
});

describe('safeHref', () => {
  it('keeps http(s) links and refuses every other scheme', () => {
    expect(safeHref('http://127.0.0.1:5000/#/experiments/1/runs/abc')).toBe('http://127.0.0.1:5000/#/experiments/1/runs/abc');
    expect(safeHref('https://mlflow.example.com/x')).toBe('https://mlflow.example.com/x');
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,<b>x</b>')).toBeNull();
    expect(safeHref('not a url')).toBeNull();
    expect(safeHref(null)).toBeNull();
    expect(safeHref('')).toBeNull();
  });
});
