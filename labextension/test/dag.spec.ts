// The DAG model: edges from the REST data, a dagre layout, state classes.
import { layoutRun, runEdges, stateClass } from '../src/dag';
import { IRun } from '../src/model';

function run(): IRun {
  const out = (id: number, name: string) => ({ id, name, uri: `/a/${id}`, path: `p/${id}`, materializer: 'json', hash: 'h' });
  return {
    name: 'r', pipeline: 'p', state: 'complete', stack: 'default',
    steps: [
      { name: 'load', state: 'cached', duration: 0, parameters: {}, error: '', outputs: [out(1, 'output')], inputs: {} },
      { name: 'split', state: 'complete', duration: 0, parameters: {}, error: '', outputs: [out(2, 'train'), out(3, 'test')], inputs: { data: 1 } },
      { name: 'fit', state: 'failed', duration: 0, parameters: {}, error: 'boom', outputs: [], inputs: { train: 2 } },
      { name: '<b>x</b>', state: 'weird', duration: 0, parameters: {}, error: '', outputs: [], inputs: { test: 3, data: 1 } }
    ]
  };
}

describe('the DAG of a run', () => {
  it('builds edges from output and input artifact ids', () => {
    expect(runEdges(run())).toEqual([
      { from: 'load', to: 'split', label: 'output' },
      { from: 'split', to: 'fit', label: 'train' },
      { from: 'split', to: '<b>x</b>', label: 'test' },
      { from: 'load', to: '<b>x</b>', label: 'output' }
    ]);
  });

  it('lays steps out left to right by their dependencies', () => {
    const layout = layoutRun(run());
    const at = Object.fromEntries(layout.nodes.map(n => [n.name, n]));
    expect(at.load.x).toBeLessThan(at.split.x);
    expect(at.split.x).toBeLessThan(at.fit.x);
    expect(layout.edges).toHaveLength(4);
    expect(layout.edges.every(e => e.points.length >= 2)).toBe(true);
    expect(layout.width).toBeGreaterThan(0);
    expect(layout.nodes.map(n => n.cls)).toEqual(['zn-state-cached', 'zn-state-complete', 'zn-state-failed', 'zn-state-other']);
  });

  it('maps states to classes, unknown ones to "other"', () => {
    expect(stateClass('running')).toBe('zn-state-running');
    expect(stateClass('incomplete')).toBe('zn-state-incomplete');
    expect(stateClass('x" onclick="y')).toBe('zn-state-other');
  });

  it('lays out a 200-step run quickly', () => {
    const steps = Array.from({ length: 200 }, (_, i) => ({
      name: `s${i}`, state: 'complete', duration: 0, parameters: {}, error: '',
      outputs: [{ id: i + 1, name: 'output', uri: '', path: null, materializer: 'json', hash: '' }],
      inputs: (i ? { x: i } : {}) as Record<string, number>
    }));
    const started = Date.now();
    const layout = layoutRun({ name: 'big', pipeline: 'p', state: 'complete', stack: 's', steps });
    expect(layout.nodes).toHaveLength(200);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
