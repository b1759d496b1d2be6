/**
 * The DAG of a run, laid out by dagre (a real graph-layout library): steps are nodes, the
 * artifacts they pass are labelled edges. Pure (no DOM), so it is unit-tested with jest; the
 * sidebar draws the layout as SVG with textContent only.
 */
import dagre from '@dagrejs/dagre';

import { IRun } from './model';

export const STATES = ['complete', 'cached', 'failed', 'running', 'incomplete', 'cancelled'];

export interface IDagNode {
  name: string;
  state: string;
  /** the CSS class that colours it: zn-state-<state>, or zn-state-other */
  cls: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface IDagEdge {
  from: string;
  to: string;
  label: string;
  points: { x: number; y: number }[];
}

export interface IDagLayout {
  nodes: IDagNode[];
  edges: IDagEdge[];
  width: number;
  height: number;
}

/** Producer -> consumer edges from the steps' output ids and input ids. */
export function runEdges(run: IRun): { from: string; to: string; label: string }[] {
  const producer = new Map<number, { step: string; name: string }>();
  for (const step of run.steps) {
    for (const out of step.outputs) {
      if (out.id !== undefined && !producer.has(out.id)) {
        producer.set(out.id, { step: step.name, name: out.name });
      }
    }
  }
  const edges: { from: string; to: string; label: string }[] = [];
  for (const step of run.steps) {
    for (const id of Object.values(step.inputs ?? {})) {
      const from = producer.get(id);
      if (from && from.step !== step.name) {
        edges.push({ from: from.step, to: step.name, label: from.name });
      }
    }
  }
  return edges;
}

export function stateClass(state: string): string {
  return `zn-state-${STATES.includes(state) ? state : 'other'}`;
}

/** Lay a run out left to right. */
export function layoutRun(run: IRun): IDagLayout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 10, ranksep: 36, edgesep: 6, marginx: 4, marginy: 4 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const step of run.steps) {
    g.setNode(step.name, { width: Math.min(Math.max(48, step.name.length * 7 + 14), 160), height: 24 });
  }
  const edges = runEdges(run);
  edges.forEach((e, i) => g.setEdge(e.from, e.to, { label: e.label }, `e${i}`));
  dagre.layout(g);
  const graph = g.graph();
  const nodes = run.steps.map(step => {
    const n = g.node(step.name);
    return { name: step.name, state: step.state, cls: stateClass(step.state), x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height };
  });
  const laid = edges.map((e, i) => ({ ...e, points: (g.edge({ v: e.from, w: e.to, name: `e${i}` }).points ?? []).map(p => ({ x: p.x, y: p.y })) }));
  return { nodes, edges: laid, width: Math.ceil(graph.width ?? 0), height: Math.ceil(graph.height ?? 0) };
}
