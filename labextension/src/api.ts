/**
 * Requests to the zenml-notebook server extension (same origin, Jupyter's own auth + XSRF).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { ICompare, IListing, IPreview, IRun, IRunPage, IStacks, query } from './model';
import { ITablePage, ITableState, tableQuery } from './table';

export interface IDeletion {
  dry_run: boolean;
  runs: string[];
  bytes: number;
  shared: number;
  tagged: string[];
  artifacts: { uri: string; state: string }[];
  artifact_count: number;
  already: string[];
}

export interface IVersion {
  name: string;
  version: number;
  artifact_id: number;
  run: string;
  step: string;
  content_hash: string;
  created: number;
  size: number;
  tags: string[];
  state: string;
  /** where it is in the stack's artifact store (null: another store, or deleted) */
  path: string | null;
}

export interface ILineage {
  /** step -> input -> the run and step that wrote it */
  inputs: Record<string, Record<string, { run: string; step: string }>>;
  /** step -> output -> other runs that used it */
  outputs: Record<string, Record<string, string[]>>;
}

/** An error the server explained: its message is shown as text in the sidebar. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

/** The server extension's REST API; `settings` default to the page's (base URL, token, XSRF). */
export class ZenmlApi {
  constructor(readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  /** A token that changes when the stacks or the active stack's runs change (cheap to ask). */
  getVersion(cwd: string): Promise<{ token: string }> {
    return this.request<{ token: string }>(`version?${query({ cwd })}`);
  }

  getStacks(cwd: string): Promise<IStacks> {
    return this.request<IStacks>(`stacks?${query({ cwd })}`);
  }

  setActiveStack(cwd: string, name: string): Promise<{ active: string }> {
    return this.request(`stacks/active?${query({ cwd })}`, {
      method: 'POST',
      body: JSON.stringify({ name }),
      headers: { 'Content-Type': 'application/json' }
    });
  }

  listArtifacts(cwd: string, path: string, offset = 0, limit = 100): Promise<IListing> {
    return this.request<IListing>(`artifacts?${query({ cwd, path, offset, limit })}`);
  }

  previewArtifact(cwd: string, path: string): Promise<IPreview> {
    return this.request<IPreview>(`artifacts/preview?${query({ cwd, path })}`);
  }

  listRuns(cwd: string, limit = 20, offset = 0, pipeline = ''): Promise<IRunPage> {
    return this.request<IRunPage>(`runs?${query({ cwd, limit, offset, pipeline })}`);
  }

  compareRuns(cwd: string, runs: string[]): Promise<ICompare> {
    return this.request<ICompare>(`runs/compare?${query({ cwd })}&${runs.map(r => `runs=${encodeURIComponent(r)}`).join('&')}`);
  }

  /** One page of what a step printed: ``limit`` characters from byte ``offset``; ``next`` is
   * the offset of the following page (null at the end). */
  getLogs(cwd: string, run: string, step: string, offset = 0, limit = 20000): Promise<{ text: string; size: number; next: number | null }> {
    return this.request(`runs/${encodeURIComponent(run)}/logs?${query({ cwd, step, offset, limit })}`);
  }

  getRun(cwd: string, name: string): Promise<IRun> {
    return this.request<IRun>(`runs/${encodeURIComponent(name)}?${query({ cwd })}`);
  }

  getTable(cwd: string, state: ITableState): Promise<ITablePage> {
    return this.request<ITablePage>(`runs/table?${query({ cwd, ...tableQuery(state) })}`);
  }

  /** A Vega-Lite spec: ``y`` across runs (bars), or against parameter ``x`` (points). */
  getChart(cwd: string, runs: string[], y: string, x = ''): Promise<{ spec: Record<string, unknown> }> {
    return this.request(`runs/chart?${query({ cwd, y, x })}&${runs.map(r => `runs=${encodeURIComponent(r)}`).join('&')}`);
  }

  /** One metric of several runs as lines: x by step or wall time, EMA smoothing, log scale. */
  getMetricChart(cwd: string, runs: string[], metric: string, x: 'step' | 'time' = 'step', smooth = 0, log = false): Promise<{ spec: Record<string, unknown> }> {
    return this.request(`runs/metric-chart?${query({ cwd, metric, x, smooth, log: log ? 1 : 0 })}&${runs.map(r => `runs=${encodeURIComponent(r)}`).join('&')}`);
  }

  deleteRuns(cwd: string, runs: string[], dryRun: boolean): Promise<IDeletion> {
    return this.post<IDeletion>(`runs/delete?${query({ cwd })}`, { runs, dry_run: dryRun });
  }

  getLineage(cwd: string, run: string): Promise<ILineage> {
    return this.request<ILineage>(`runs/${encodeURIComponent(run)}/lineage?${query({ cwd })}`);
  }

  getNames(cwd: string): Promise<{ names: { name: string; latest: number; created: number }[] }> {
    return this.request(`versions?${query({ cwd })}`);
  }

  getVersions(cwd: string, name: string, offset = 0, limit = 50): Promise<{ name: string; total: number; offset: number; versions: IVersion[] }> {
    return this.request(`versions/${encodeURIComponent(name)}?${query({ cwd, offset, limit })}`);
  }

  tag(cwd: string, name: string, version: number, tag: string): Promise<{ version: number; moved_from: number | null }> {
    return this.post(`versions/${encodeURIComponent(name)}/tag?${query({ cwd })}`, { version, tag });
  }

  untag(cwd: string, name: string, tag: string): Promise<{ was_on: number }> {
    return this.post(`versions/${encodeURIComponent(name)}/untag?${query({ cwd })}`, { tag });
  }

  private post<T>(endpoint: string, body: unknown): Promise<T> {
    return this.request<T>(endpoint, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  }

  private async request<T>(endpoint: string, init: RequestInit = {}): Promise<T> {
    const url = URLExt.join(this.settings.baseUrl, 'zenml-notebook', endpoint);
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.settings);
    } catch (error) {
      throw new ApiError(`the Jupyter server cannot be reached (${String(error)})`, 0);
    }
    let data: any = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const explained = data && (data.error || data.message);
      throw new ApiError(explained || `request failed with status ${response.status}`, response.status);
    }
    return data as T;
  }
}
