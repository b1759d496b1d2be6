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
  /** the label's box (dagre reserves it like a node, so it never sits over one) */
  labelBox: IBox;
}

export interface IBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Whether two boxes overlap (touching edges do not count). */
export function overlaps(a: IBox, b: IBox): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Text width in px at the DAG's 11-12 px font (an estimate; the SVG draws what fits). */
export const CHAR_PX = 7;

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

/** Lay a run out left to right: nodes sized to their names (up to ``maxNode`` px), edge labels
 * given boxes of their own that the layout keeps clear of every node, edges routed by dagre. */
export const LABELLED_UP_TO = 300;  // steps: a bigger graph's edge labels are unreadable noise, and cost dagre a third of its time

export function layoutRun(run: IRun, maxNode = 160, labels = run.steps.length <= LABELLED_UP_TO): IDagLayout {
  if (!labels) {
    return layeredLayout(run, maxNode);
  }
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 30, edgesep: 8, marginx: 6, marginy: 6 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const step of run.steps) {
    g.setNode(step.name, { width: Math.min(Math.max(48, step.name.length * CHAR_PX + 14), maxNode), height: 24 });
  }
  const edges = runEdges(run);
  const labelWidth = (label: string) => Math.min(label.length * 6 + 6, 120);
  edges.forEach((e, i) => g.setEdge(e.from, e.to, labels ? { label: e.label, width: labelWidth(e.label), height: 14, labelpos: 'c' } : {}, `e${i}`));
  dagre.layout(g);
  const graph = g.graph();
  const nodes = run.steps.map(step => {
    const n = g.node(step.name);
    return { name: step.name, state: step.state, cls: stateClass(step.state), x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height };
  });
  const laid = edges.map((e, i) => {
    const edge: any = g.edge({ v: e.from, w: e.to, name: `e${i}` });
    const points = (edge.points ?? []).map((p: { x: number; y: number }) => ({ x: p.x, y: p.y }));
    const width = labels ? labelWidth(e.label) : 0;
    const at = edge.x !== undefined ? { x: edge.x, y: edge.y } : points[Math.floor(points.length / 2)] ?? { x: 0, y: 0 };
    return { ...e, points, labelBox: { x: at.x - width / 2, y: at.y - 7, width, height: labels ? 14 : 0 } };
  });
  return { nodes, edges: laid, width: Math.ceil(graph.width ?? 0), height: Math.ceil(graph.height ?? 0) };
}

/**
 * A big graph's layout in linear time (dagre takes ~0.5 s for 1 000 steps): each step in the
 * column of its longest path from a source, steps of a column ordered by the mean row of their
 * producers, edges as elbows between columns. Used above LABELLED_UP_TO steps, where edge labels
 * are left out anyway.
 */
export function layeredLayout(run: IRun, maxNode = 160): IDagLayout {
  const edges = runEdges(run);
  const names = run.steps.map(s => s.name);
  const width = new Map(run.steps.map(s => [s.name, Math.min(Math.max(48, s.name.length * CHAR_PX + 14), maxNode)]));
  const preds = new Map<string, string[]>(names.map(n => [n, []]));
  const succs = new Map<string, string[]>(names.map(n => [n, []]));
  for (const e of edges) {
    preds.get(e.to)?.push(e.from);
    succs.get(e.from)?.push(e.to);
  }
  // ranks by longest path, in topological (Kahn) order; a cycle (never in a run) falls back to rank 0
  const indegree = new Map(names.map(n => [n, preds.get(n)!.length]));
  const rank = new Map(names.map(n => [n, 0]));
  const queue = names.filter(n => indegree.get(n) === 0);
  for (let i = 0; i < queue.length; i++) {
    const n = queue[i];
    for (const m of succs.get(n)!) {
      rank.set(m, Math.max(rank.get(m)!, rank.get(n)! + 1));
      indegree.set(m, indegree.get(m)! - 1);
      if (indegree.get(m) === 0) {
        queue.push(m);
      }
    }
  }
  const columns: string[][] = [];
  for (const n of queue.length === names.length ? queue : names) {
    (columns[rank.get(n)!] ??= []).push(n);
  }
  const row = new Map<string, number>();
  const H = 24;
  const GAP_Y = 14;
  const GAP_X = 30;
  const nodes: IDagNode[] = [];
  let x = 6;
  let height = 0;
  const stateOf = new Map(run.steps.map(s => [s.name, s.state]));
  for (const column of columns) {
    if (!column) {
      continue;
    }
    const mean = (n: string) => {
      const p = preds.get(n)!.filter(q => row.has(q));
      return p.length ? p.reduce((a, q) => a + row.get(q)!, 0) / p.length : 0;
    };
    column.sort((a, b) => mean(a) - mean(b));
    const colWidth = Math.max(...column.map(n => width.get(n)!));
    column.forEach((n, i) => {
      row.set(n, i);
      const state = stateOf.get(n) ?? 'other';
      nodes.push({ name: n, state, cls: stateClass(state), x, y: 6 + i * (H + GAP_Y), width: width.get(n)!, height: H });
    });
    height = Math.max(height, 6 + column.length * (H + GAP_Y));
    x += colWidth + GAP_X;
  }
  const at = new Map(nodes.map(n => [n.name, n]));
  const laid = edges.map(e => {
    const a = at.get(e.from)!;
    const b = at.get(e.to)!;
    const y1 = a.y + a.height / 2;
    const y2 = b.y + b.height / 2;
    const points = [{ x: a.x + a.width, y: y1 }, { x: b.x - GAP_X / 2, y: y1 }, { x: b.x - GAP_X / 2, y: y2 }, { x: b.x, y: y2 }];
    return { ...e, points, labelBox: { x: b.x, y: y2, width: 0, height: 0 } };
  });
  return { nodes, edges: laid, width: Math.ceil(x), height: Math.ceil(height + 6) };
}

/** The viewBox that shows the whole graph in a ``viewW`` x ``viewH`` viewport, centred, never
 * magnified beyond 1.5x (a 2-node DAG does not fill a page). */
export function fitView(layout: { width: number; height: number }, viewW: number, viewH: number): IBox {
  const scale = Math.min(viewW / Math.max(layout.width, 1), viewH / Math.max(layout.height, 1), 1.5);
  const width = viewW / scale;
  const height = viewH / scale;
  return { x: (layout.width - width) / 2, y: (layout.height - height) / 2, width, height };
}

/** The first view of a graph: all of it when that stays legible (scale >= ``minScale``), else
 * its start (the left end, vertically centred) at ``minScale`` - a 1 000-step chain fitted whole
 * is a hairline; "fit" still shows all of it. */
export function firstView(layout: { width: number; height: number }, viewW: number, viewH: number, minScale = 0.35): IBox {
  const fitted = fitView(layout, viewW, viewH);
  if (viewW / fitted.width >= minScale) {
    return fitted;
  }
  const width = viewW / minScale;
  const height = viewH / minScale;
  return { x: 0, y: (layout.height - height) / 2, width, height };
}

/** The viewBox after zooming by ``factor`` (>1: in) around the point (px, py) in graph units. */
export function zoomView(view: IBox, factor: number, px: number, py: number): IBox {
  const f = Math.min(Math.max(factor, 0.05), 20);
  const width = view.width / f;
  const height = view.height / f;
  return { x: px - (px - view.x) / f, y: py - (py - view.y) / f, width, height };
}
