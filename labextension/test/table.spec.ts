// The runs table's model, the DAG's label boxes and camera, and the notification rule.
import { firstView, fitView, layoutRun, overlaps, zoomView } from '../src/dag';
import { IRun } from '../src/model';
import { allColumns, cellText, defaultVisible, endedRuns, INITIAL, ITableRow, nextSort, rangeLabel, shouldNotify, tableQuery, valueText } from '../src/table';

const row = (over: Partial<ITableRow> = {}): ITableRow => ({
  name: 'r1', pipeline: 'p', state: 'complete', started: 1_700_000_000, ended: 1_700_000_072, duration: 72, steps: 5, cached: 2,
  stack: 'default', user: 'ana@laptop', parameters: { 'train.lr': 0.01405, 'train.name': '<b>x</b>' }, scalars: { 'eval.score': 0.91234567 }, ...over
});

describe('the runs table model', () => {
  const page = { columns: { parameters: ['train.lr', 'train.name', 'a', 'b', 'c'], scalars: ['eval.score'] } };

  it('offers fixed, parameter and output columns, and shows a few by default', () => {
    const ids = allColumns(page).map(c => c.id);
    expect(ids.slice(0, 3)).toEqual(['state', 'name', 'pipeline']);
    expect(ids).toContain('param:train.lr');
    expect(ids).toContain('scalar:eval.score');
    const shown = defaultVisible(page);
    expect(shown).toContain('param:b');
    expect(shown).not.toContain('param:c');
    expect(shown).not.toContain('user');
  });

  it('shows cells as people read them, markup as text', () => {
    const cols = Object.fromEntries(allColumns(page).map(c => [c.id, c]));
    expect(cellText(row(), cols['param:train.lr'])).toBe('0.01405');
    expect(cellText(row(), cols['param:train.name'])).toBe('<b>x</b>');
    expect(cellText(row(), cols['scalar:eval.score'])).toBe('0.912346');
    expect(cellText(row(), cols['duration'])).toBe('1 min 12 s');
    expect(cellText(row(), cols['cached'])).toBe('2/5');
    expect(cellText(row({ parameters: {} }), cols['param:train.lr'])).toBe('');
    expect(valueText(1.5e-7)).toBe('1.500e-7');
    expect(valueText({ a: 1 })).toBe('{"a":1}');
  });

  it('sorts: the same header flips, a new numeric one starts largest first, text A to Z', () => {
    const cols = Object.fromEntries(allColumns(page).map(c => [c.id, c]));
    expect(nextSort({ sort: 'started', descending: true }, cols['started'])).toEqual({ sort: 'started', descending: false });
    expect(nextSort({ sort: 'started', descending: true }, cols['param:train.lr'])).toEqual({ sort: 'param:train.lr', descending: true });
    expect(nextSort({ sort: 'started', descending: true }, cols['name'])).toEqual({ sort: 'name', descending: false });
  });

  it('asks the server with the state, and labels the range', () => {
    expect(tableQuery({ ...INITIAL, text: ' lr=0.1 ', sort: 'param:a', descending: false })).toEqual(
      { sort: 'param:a', order: 'asc', pipeline: '', state: '', q: 'lr=0.1', offset: 0, limit: 50 });
    const base = { rows: [row(), row()], offset: 0, limit: 50, columns: page.columns, pipelines: [], sort: 'started', descending: true };
    expect(rangeLabel({ ...base, total: 100000, matched: 100000 })).toBe('1-2 of 100,000 runs');
    expect(rangeLabel({ ...base, total: 10, matched: 2 })).toBe('1-2 of 2 matching (of 10)');
    expect(rangeLabel({ ...base, rows: [], total: 10, matched: 0 })).toBe('no runs match');
    expect(rangeLabel({ ...base, total: null, matched: null })).toBe('1-2 (counting runs…)');
  });
});

describe('the notification rule', () => {
  it('reports a run seen running that ended, once; nothing on the first look', () => {
    const seen = new Map<string, string>();
    const since = 1_700_000_000_000;
    expect(endedRuns(seen, [{ name: 'old', state: 'complete', started: 1_600_000_000 }, { name: 'a', state: 'running', started: 1_700_000_001 }], since, true)).toEqual([]);
    expect(endedRuns(seen, [{ name: 'a', state: 'complete', started: 1_700_000_001 }], since, false)).toEqual(['a']);
    expect(endedRuns(seen, [{ name: 'a', state: 'complete', started: 1_700_000_001 }], since, false)).toEqual([]);
    // new since the watch began and already over (a quick run between two polls)
    expect(endedRuns(seen, [{ name: 'quick', state: 'failed', started: 1_700_000_005 }], since, false)).toEqual(['quick']);
    // an old run seen for the first time later (another folder's list) is not news
    expect(endedRuns(seen, [{ name: 'older', state: 'complete', started: 1_600_000_000 }], since, false)).toEqual([]);
  });

  it('notifies only when the notebook is not in front', () => {
    expect(shouldNotify({ pageHidden: false, notebookInFront: true })).toBe(false);
    expect(shouldNotify({ pageHidden: true, notebookInFront: true })).toBe(true);
    expect(shouldNotify({ pageHidden: false, notebookInFront: false })).toBe(true);
    expect(shouldNotify({ pageHidden: false, notebookInFront: true, background: true })).toBe(true);  // submit(): always
  });
});

describe('the DAG at full size', () => {
  function wide(): IRun {
    const out = (id: number, name: string) => ({ id, name, uri: `/a/${id}`, path: `p/${id}`, materializer: 'json', hash: 'h' });
    return {
      name: 'r', pipeline: 'p', state: 'complete', stack: 'default',
      steps: [
        { name: 'load', state: 'complete', duration: 0, parameters: {}, error: '', outputs: [out(1, 'output')], inputs: {} },
        { name: 'split', state: 'complete', duration: 0, parameters: {}, error: '', outputs: [out(2, 'train_set'), out(3, 'test_set')], inputs: { data: 1 } },
        { name: 'train_model', state: 'complete', duration: 0, parameters: {}, error: '', outputs: [out(4, 'model')], inputs: { train: 2 } },
        { name: 'evaluate', state: 'complete', duration: 0, parameters: {}, error: '', outputs: [], inputs: { model: 4, test: 3 } }
      ]
    };
  }

  it('keeps every edge label clear of every node (the split -> evaluate edge passes train_model)', () => {
    const layout = layoutRun(wide());
    expect(layout.edges).toHaveLength(4);
    for (const edge of layout.edges) {
      for (const node of layout.nodes) {
        expect(overlaps(edge.labelBox, node)).toBe(false);
      }
    }
  });

  it('leaves edge labels out of a graph of more than 300 steps (dagre time; unreadable anyway)', () => {
    const steps: IRun['steps'] = Array.from({ length: 301 }, (_, i) => ({
      name: `s${i}`, state: 'complete', duration: 0, parameters: {}, error: '',
      outputs: [{ id: i + 1, name: 'output', uri: '', path: null, materializer: 'json', hash: '' }], inputs: (i ? { x: i } : {}) as Record<string, number>
    }));
    const layout = layoutRun({ name: 'r', pipeline: 'p', state: 'complete', stack: 'd', steps });
    expect(layout.edges).toHaveLength(300);
    expect(layout.edges.every(e => e.labelBox.width === 0)).toBe(true);
    expect(layoutRun(wide()).edges.every(e => e.labelBox.width > 0)).toBe(true);
    // laid out in linear time, in dependency order, no two steps on top of each other
    const x = new Map(layout.nodes.map(n => [n.name, n.x]));
    expect(steps.slice(1).every((s, i) => x.get(s.name)! > x.get(steps[i].name)!)).toBe(true);
    const started = Date.now();
    const thousand = layoutRun({ name: 'r', pipeline: 'p', state: 'complete', stack: 'd', steps: Array.from({ length: 1000 }, (_, i) => ({
      name: `s${i}`, state: 'complete', duration: 0, parameters: {}, error: '',
      outputs: [{ id: i + 1, name: 'output', uri: '', path: null, materializer: 'json', hash: '' }], inputs: (i ? { x: i, y: Math.max(1, i - 3) } : {}) as Record<string, number>
    })) });
    expect(Date.now() - started).toBeLessThan(300);
    const boxes = thousand.nodes;
    const seen = new Set(boxes.map(b => `${b.x},${b.y}`));
    expect(seen.size).toBe(1000);
    expect(thousand.edges.every(e => e.points.length === 4)).toBe(true);
  });

  it('fits the graph in the viewport and zooms around a point', () => {
    const view = fitView({ width: 1000, height: 100 }, 500, 300);
    expect(view.width).toBeCloseTo(1000);
    expect(view.height).toBeCloseTo(600);
    expect(fitView({ width: 10, height: 10 }, 500, 300).width).toBeCloseTo(500 / 1.5);  // never magnified past 1.5x
    expect(firstView({ width: 1000, height: 100 }, 500, 300)).toEqual(view);  // legible whole: the whole
    const chain = firstView({ width: 100000, height: 40 }, 500, 300);  // a 1 000-step chain: its start, legible
    expect(chain.x).toBe(0);
    expect(500 / chain.width).toBeCloseTo(0.35);
    const zoomed = zoomView({ x: 0, y: 0, width: 100, height: 100 }, 2, 50, 50);
    expect(zoomed).toEqual({ x: 25, y: 25, width: 50, height: 50 });
  });
});

describe('metric columns', () => {
  it('are offered, shown by default and show the last value', () => {
    const page = { columns: { parameters: [], scalars: [], metrics: ['train.loss'] } };
    const column = allColumns(page).find(c => c.id === 'metric:train.loss')!;
    expect(column.label).toBe('train.loss (last)');
    expect(defaultVisible(page)).toContain('metric:train.loss');
    expect(cellText(row({ metrics: { 'train.loss': 0.0123456789 } }), column)).toBe('0.0123457');
    expect(cellText(row(), column)).toBe('');
  });
});
