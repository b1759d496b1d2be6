/**
 * Pure helpers the sidebar uses (no DOM, no Jupyter): tested with node's test runner.
 */

export interface IComponent {
  name: string;
  flavor: string;
  config: Record<string, unknown>;
  /** where the component comes from when not from the stack itself, e.g. "from $ZENML_NOTEBOOK_METADATA_STORE" */
  source?: string;
}

export interface IStack {
  name: string;
  active: boolean;
  components: Record<string, IComponent>;
  /** when the stack was last changed (ISO 8601, UTC) and by whom ("ana@laptop") */
  changed?: string;
  changed_by?: string;
}

/** Where the stacks live: the repository's own file, or a team's shared database. */
export interface IRegistry {
  kind: 'local' | 'shared';
  url: string;
  /** the shared server did not answer: this is the repository's last copy */
  stale: boolean;
}

export interface IStacks {
  repository: string | null;
  active: string | null;
  stacks: IStack[];
  registry?: IRegistry;
}

export interface IEntry {
  name: string;
  path: string;
  kind: 'folder' | 'file' | 'link';
  size: number | null;
  modified: number | null;
}

export interface IListing {
  store: string | null;
  path: string;
  entries: IEntry[];
  total: number;
  offset: number;
  limit: number;
}

export interface IPreview {
  path: string;
  /** the artifact's full URI (what `runs describe` prints) */
  uri?: string;
  kind: 'text' | 'json' | 'csv' | 'image' | 'binary' | 'array' | 'table';
  size: number;
  modified: number | null;
  text: string | null;
  rows: string[][];
  mime: string | null;
  data_base64: string | null;
  truncated: boolean;
  note: string;
}

export interface IRunSummary {
  name: string;
  pipeline: string;
  state: string;
  started: number;
  ended: number;
  /** seconds, null while running */
  duration?: number | null;
  steps?: number;
  cached?: number;
  stack?: string | null;
  /** who ran it ($ZENML_NOTEBOOK_USER, the hub user, or user@host) */
  user?: string | null;
  /** "step.param" -> value */
  parameters?: Record<string, unknown>;
}

export interface IRunPage {
  stack?: string;
  runs: IRunSummary[];
  total: number;
  offset: number;
  pipelines: string[];
}

export interface IRunOutput {
  /** the artifact's id (steps' inputs refer to it) */
  id?: number;
  /** a small JSON scalar output's value, shown inline */
  value?: unknown;
  name: string;
  uri: string;
  path: string | null;
  materializer: string;
  hash: string;
}

export interface IRunStep {
  name: string;
  state: string;
  duration: number;
  parameters: Record<string, unknown>;
  error: string;
  outputs: IRunOutput[];
  /** argument -> artifact id */
  inputs?: Record<string, number>;
  log?: boolean;
  /** seconds spent reading its inputs and writing its outputs (outside its own duration) */
  load?: number;
  store?: number;
  /** metric -> last, min, max, count, step (log_metric) */
  metrics?: Record<string, { last: number; min: number; max: number; count: number; step: number }>;
  tags?: Record<string, string>;
}

export interface IRun {
  name: string;
  pipeline: string;
  state: string;
  stack: string;
  started?: number;
  ended?: number;
  user?: string | null;
  steps: IRunStep[];
  /** Where the run was mirrored (an experiment tracker besides the built-in one): the server's
   * words, and the link only when it is an http(s) address. */
  tracker?: { text: string; url: string | null; mirrored: boolean } | null;
}

export const KINDS: [string, string][] = [
  ['metadata_store', 'metadata'],
  ['artifact_store', 'artifacts'],
  ['orchestrator', 'orchestrator'],
  ['experiment_tracker', 'tracker']
];

/** An href the explorer may open: http(s) only (never javascript: or data:). */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) {
    return null;
  }
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}

const IMAGE_MIMES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** A size in B/KiB/MiB/GiB, like the CLI. */
export function humanSize(size: number | null): string {
  if (size === null || size === undefined) {
    return '';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = size;
  for (const unit of units) {
    if (value < 1024 || unit === 'GiB') {
      return unit === 'B' ? `${value} B` : `${value.toFixed(1)} ${unit}`;
    }
    value /= 1024;
  }
  return `${size} B`;
}

/** Seconds since the epoch as "YYYY-MM-DD HH:MM". */
export function formatWhen(seconds: number | null): string {
  if (!seconds) {
    return '';
  }
  const d = new Date(seconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The folder of a notebook path ("a/b/c.ipynb" -> "a/b"). */
export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** The parent of a store path ("" stays ""). */
export function parentPath(path: string): string {
  return dirname(path.replace(/\/+$/, ''));
}

/** "a=1&b=x%20y", leaving out empty values. */
export function query(params: Record<string, string | number | null | undefined>): string {
  return Object.entries(params)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
}

/** Whether the sidebar must re-render after a poll. */
export function stacksChanged(before: IStacks | null, after: IStacks): boolean {
  return before === null || JSON.stringify(before) !== JSON.stringify(after);
}

/** A data: URL for an image preview, only for the image types we allow (never SVG). */
export function imageSource(preview: IPreview): string | null {
  if (preview.kind !== 'image' || !preview.data_base64 || !preview.mime || !IMAGE_MIMES.has(preview.mime)) {
    return null;
  }
  if (!/^[A-Za-z0-9+/=]+$/.test(preview.data_base64)) {
    return null;
  }
  return `data:${preview.mime};base64,${preview.data_base64}`;
}

/** One line about a component: "sqlite · uri=.zenml/metadata.db". */
export function describeComponent(component: IComponent): string {
  const settings = Object.entries(component.config)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
  return settings ? `${component.flavor} · ${settings}` : component.flavor;
}

/** The page label: "1-100 of 1234". */
export function pageLabel(listing: IListing): string {
  if (listing.total === 0) {
    return 'empty';
  }
  const last = listing.offset + listing.entries.length;
  return `${listing.offset + 1}-${last} of ${listing.total}`;
}

/** The registry line: "Registry: local" or "Registry: shared · mysql://ana@db:3306/team". */
export function describeRegistry(registry: IRegistry | undefined): string {
  if (!registry || registry.kind !== 'shared') {
    return 'Registry: local (this repository)';
  }
  return `Registry: shared · ${registry.url}` + (registry.stale ? ' · stale copy (the server did not answer)' : '');
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "changed 14:02 by ana@laptop" (today) or "changed 2026-11-28 14:02 by ana@laptop"; "" if unknown. */
export function describeChange(stack: IStack, now: Date = new Date()): string {
  if (!stack.changed) {
    return '';
  }
  const at = new Date(stack.changed);
  if (Number.isNaN(at.getTime())) {
    return '';
  }
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  const sameDay = at.toDateString() === now.toDateString();
  const when = sameDay ? time : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`;
  return `changed ${when}` + (stack.changed_by ? ` by ${stack.changed_by}` : '');
}

/**
 * What the sidebar's poll does: nothing while the panel or the page is hidden (no request at
 * all), otherwise ask for the change token; a different token than the last one means "reload".
 */
export class ChangeWatcher {
  private last: string | null = null;

  /** Whether to ask the server now. */
  shouldAsk(panelVisible: boolean, pageHidden: boolean): boolean {
    return panelVisible && !pageHidden;
  }

  /** Record the token the server gave; true when something changed since the last one. */
  changed(token: string): boolean {
    const changed = this.last !== null && this.last !== token;
    this.last = token;
    return changed;
  }

  /** Forget the token (another repository is shown now). */
  reset(): void {
    this.last = null;
  }

  /** Whether a token was read since the last reset: if not, what the panel shows may be from
   * before anything it could have watched (it was loaded while hidden, or never). */
  known(): boolean {
    return this.last !== null;
  }
}

/** A duration as people read it: "3.0 ms", "12 ms", "0.42 s", "3.01 s", "42.5 s", "1 min 12 s",
 * "2 h 5 min"; "" while unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return '';
  }
  if (seconds < 0.1) {
    const ms = seconds * 1000;
    return `${ms < 10 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
  }
  if (seconds < 60) {
    return `${seconds < 10 ? seconds.toFixed(2) : seconds.toFixed(1)} s`;
  }
  const whole = Math.round(seconds);
  if (whole < 3600) {
    return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  }
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
}

/** One line about a run: "complete · 0.42 s · 3/5 cached · stack team · by ana · lr=0.1". */
export function describeRun(run: IRunSummary): string {
  const parts = [run.state];
  const took = formatDuration(run.duration);
  if (took) {
    parts.push(took);
  }
  if (run.steps) {
    parts.push(`${run.cached ?? 0}/${run.steps} cached`);
  }
  if (run.stack) {
    parts.push(`stack ${run.stack}`);
  }
  if (run.user) {
    parts.push(`by ${run.user}`);
  }
  const params = Object.entries(run.parameters ?? {})
    .map(([k, v]) => `${k.split('.').pop()}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
  if (params) {
    parts.push(params.length > 60 ? params.slice(0, 59) + '…' : params);
  }
  return parts.join(' · ');
}

/** A scalar output's value as shown inline ("" when there is none). */
export function scalarText(output: IRunOutput): string {
  if (output.value === undefined || output.value === null) {
    return '';
  }
  return typeof output.value === 'string' ? JSON.stringify(output.value) : String(output.value);
}

/** Runs side by side, as `GET runs/compare` answers. */
export interface ICompare {
  runs: string[];
  rows: { key: string; values: string[]; differs: boolean }[];
  /** scalar output -> run -> value */
  scalars: Record<string, Record<string, number>>;
  /** "step.metric" of any of the runs (log_metric) */
  metrics?: string[];
}

/** The scalar output charted first: the first that differs across the runs, else the first. */
export function defaultChart(cmp: ICompare): string | null {
  const keys = Object.keys(cmp.scalars);
  const differs = keys.find(k => new Set(Object.values(cmp.scalars[k])).size > 1);
  return differs ?? keys[0] ?? null;
}

/** Bars of one scalar output across the runs, ``length`` scaled to ``width`` by the largest |value|. */
export function chartBars(cmp: ICompare, key: string, width: number): { run: string; value: number; length: number }[] {
  const values = cmp.scalars[key] ?? {};
  const runs = cmp.runs.filter(r => r in values);
  const top = Math.max(0, ...runs.map(r => Math.abs(values[r]))) || 1;
  return runs.map(r => ({ run: r, value: values[r], length: Math.max(1, Math.round((width * Math.abs(values[r])) / top)) }));
}

/** The clickable segments of a folder in the store: the root, then each folder down to ``path``. */
export function breadcrumb(store: string, path: string): { label: string; path: string }[] {
  const root = store.replace(/\/+$/, '');
  const rootLabel = root.split('/').filter(Boolean).pop() ?? root;
  const parts = path.split('/').filter(Boolean);
  return [{ label: rootLabel || root, path: '' }, ...parts.map((p, i) => ({ label: p, path: parts.slice(0, i + 1).join('/') }))];
}

/** Python that loads an artifact's value in a notebook cell: a run's output by run, step and name,
 * or else the artifact a run recorded at that path of the store (`Client().load`). Every value is
 * a JSON string literal (also valid Python). */
export function loadCode(source: { run: string; step: string; output: string } | null, path: string): string {
  if (source) {
    return `from zenml_notebook import Client\n\nClient().get_run(${JSON.stringify(source.run)}).output(${JSON.stringify(source.step)}, ${JSON.stringify(source.output)})`;
  }
  return `from zenml_notebook import Client\n\nClient().load(${JSON.stringify(path)})`;
}

/** A step's time: "12 ms", with "· load 3 ms · store 40 ms" when reading or writing artifacts took any. */
export function describeStepTime(step: IRunStep): string {
  const t = formatDuration;
  return [t(step.duration), ...(step.load ? [`load ${t(step.load)}`] : []), ...(step.store ? [`store ${t(step.store)}`] : [])].join(' · ');
}

/** A step's parameters in one line: "lr=0.1, epochs=5" ("" when it has none). */
export function describeParameters(parameters: Record<string, unknown>): string {
  return Object.entries(parameters)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}
