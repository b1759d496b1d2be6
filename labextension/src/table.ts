/**
 * The runs table's model (no DOM): its columns, what a cell shows, how a header click sorts,
 * the query the server is asked, and when a finished run deserves a notification. Tested with jest.
 */
import { formatDuration, formatWhen } from './model';

export interface ITableRow {
  name: string;
  pipeline: string;
  state: string;
  started: number;
  ended: number | null;
  duration: number | null;
  steps: number;
  cached: number;
  stack: string | null;
  user: string | null;
  /** "step.param" -> value */
  parameters: Record<string, unknown>;
  /** "step.output" -> number */
  scalars: Record<string, number>;
  /** "step.metric" -> its last value (log_metric) */
  metrics?: Record<string, number>;
  /** started with submit(): nobody is watching its cell */
  background?: boolean;
}

export interface ITablePage {
  rows: ITableRow[];
  /** every run on the stack; null while the server is still counting (the first look at a big store) */
  total: number | null;
  /** the runs that match the filters; null while counting */
  matched: number | null;
  offset: number;
  limit: number;
  columns: { parameters: string[]; scalars: string[]; metrics?: string[] };
  pipelines: string[];
  sort: string;
  descending: boolean;
  stack?: string | null;
  counting?: boolean;
}

export interface IColumn {
  /** what the server sorts by: "name", "param:train.lr", "scalar:evaluate.score" */
  id: string;
  label: string;
  kind: 'fixed' | 'param' | 'scalar' | 'metric';
  /** numbers and times sort largest first on the first click */
  numeric: boolean;
}

export const FIXED: IColumn[] = [
  { id: 'state', label: 'state', kind: 'fixed', numeric: false },
  { id: 'name', label: 'run', kind: 'fixed', numeric: false },
  { id: 'pipeline', label: 'pipeline', kind: 'fixed', numeric: false },
  { id: 'started', label: 'started', kind: 'fixed', numeric: true },
  { id: 'duration', label: 'duration', kind: 'fixed', numeric: true },
  { id: 'cached', label: 'cached', kind: 'fixed', numeric: true },
  { id: 'stack', label: 'stack', kind: 'fixed', numeric: false },
  { id: 'user', label: 'by', kind: 'fixed', numeric: false }
];

/** Every column the page offers: the fixed ones, then each parameter, then each scalar output. */
export function allColumns(page: Pick<ITablePage, 'columns'>): IColumn[] {
  return [
    ...FIXED,
    ...page.columns.parameters.map(k => ({ id: `param:${k}`, label: k, kind: 'param' as const, numeric: true })),
    ...page.columns.scalars.map(k => ({ id: `scalar:${k}`, label: `→ ${k}`, kind: 'scalar' as const, numeric: true })),
    ...(page.columns.metrics ?? []).map(k => ({ id: `metric:${k}`, label: `${k} (last)`, kind: 'metric' as const, numeric: true }))
  ];
}

/** The columns shown until the user chooses: every fixed one but stack and user, the four
 * most common parameters, scalar outputs and metrics. */
export function defaultVisible(page: Pick<ITablePage, 'columns'>, max = 4): string[] {
  return [
    ...FIXED.filter(c => c.id !== 'stack' && c.id !== 'user').map(c => c.id),
    ...page.columns.parameters.slice(0, max).map(k => `param:${k}`),
    ...page.columns.scalars.slice(0, max).map(k => `scalar:${k}`),
    ...(page.columns.metrics ?? []).slice(0, max).map(k => `metric:${k}`)
  ];
}

/** A value as a cell shows it: numbers compact (0.01405, 1.2e-7), text as is, objects as JSON. */
export function valueText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'number') {
    if (Number.isInteger(value)) {
      return String(value);
    }
    const abs = Math.abs(value);
    return abs !== 0 && (abs < 1e-4 || abs >= 1e9) ? value.toExponential(3) : String(Number(value.toPrecision(6)));
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function cellText(row: ITableRow, column: IColumn): string {
  if (column.id.startsWith('param:')) {
    return valueText(row.parameters[column.id.slice(6)]);
  }
  if (column.id.startsWith('scalar:')) {
    return valueText(row.scalars[column.id.slice(7)]);
  }
  if (column.id.startsWith('metric:')) {
    return valueText(row.metrics?.[column.id.slice(7)]);
  }
  switch (column.id) {
    case 'started':
      return formatWhen(row.started);
    case 'duration':
      return formatDuration(row.duration);
    case 'cached':
      return `${row.cached}/${row.steps}`;
    default:
      return valueText((row as unknown as Record<string, unknown>)[column.id]);
  }
}

/** A header click: the same column flips the order; a new one starts largest/newest first
 * for numbers and times, A to Z for text. */
export function nextSort(current: { sort: string; descending: boolean }, column: IColumn): { sort: string; descending: boolean } {
  if (current.sort === column.id) {
    return { sort: column.id, descending: !current.descending };
  }
  return { sort: column.id, descending: column.numeric };
}

export interface ITableState {
  sort: string;
  descending: boolean;
  pipeline: string;
  state: string;
  text: string;
  offset: number;
  limit: number;
}

export const INITIAL: ITableState = { sort: 'started', descending: true, pipeline: '', state: '', text: '', offset: 0, limit: 50 };

/** The query string values of `GET runs/table` for a state ("" values are left out). */
export function tableQuery(s: ITableState): Record<string, string | number> {
  return { sort: s.sort, order: s.descending ? 'desc' : 'asc', pipeline: s.pipeline, state: s.state, q: s.text.trim(), offset: s.offset, limit: s.limit };
}

/** "1-50 of 1 234 runs", "no runs match", "1-50 (counting…)". */
export function rangeLabel(page: ITablePage): string {
  if (page.matched === null) {
    return `${page.offset + 1}-${page.offset + page.rows.length} (counting runs…)`;
  }
  if (page.matched === 0) {
    return page.total ? 'no runs match' : 'no runs on this stack yet';
  }
  const of = page.matched === page.total ? `${page.total.toLocaleString('en')} runs` : `${page.matched.toLocaleString('en')} matching (of ${(page.total ?? 0).toLocaleString('en')})`;
  return `${page.offset + 1}-${page.offset + page.rows.length} of ${of}`;
}

export const ENDED = new Set(['complete', 'failed', 'cancelled', 'incomplete']);

/**
 * The runs that ended since the last look: seen running before and ended now, or new since the
 * watch began and already ended. ``seen`` is updated. The first look (``seen`` empty and
 * ``first``) reports nothing: those runs ended before anyone was watching.
 */
export function endedRuns(seen: Map<string, string>, rows: { name: string; state: string; started: number }[], since: number, first: boolean): string[] {
  const ended: string[] = [];
  for (const row of rows) {
    const before = seen.get(row.name);
    if (!first && ENDED.has(row.state) && (before === 'running' || (before === undefined && row.started * 1000 >= since))) {
      ended.push(row.name);
    }
    seen.set(row.name, row.state);
  }
  return ended;
}

/** Whether to raise a notification for a run that ended: a background run's always (its cell
 * finished long ago; this is how its end and its error reach the user); another only when its
 * notebook is not in front (the page is hidden, or the focused tab is not a notebook there). */
export function shouldNotify(view: { pageHidden: boolean; notebookInFront: boolean; background?: boolean }): boolean {
  return Boolean(view.background) || view.pageHidden || !view.notebookInFront;
}
