/**
 * Requests to the zenml-notebook server extension (same origin, Jupyter's own auth + XSRF).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IListing, IPreview, IRun, IRunSummary, IStacks, query } from './model';

/** An error the server explained: its message is shown as text in the sidebar. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

async function request<T>(endpoint: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'zenml-notebook', endpoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
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
    throw new ApiError((data && data.error) || `request failed with status ${response.status}`, response.status);
  }
  return data as T;
}

export function getStacks(cwd: string): Promise<IStacks> {
  return request<IStacks>(`stacks?${query({ cwd })}`);
}

export function setActiveStack(cwd: string, name: string): Promise<{ active: string }> {
  return request(`stacks/active?${query({ cwd })}`, {
    method: 'POST',
    body: JSON.stringify({ name }),
    headers: { 'Content-Type': 'application/json' }
  });
}

export function listArtifacts(cwd: string, path: string, offset = 0, limit = 100): Promise<IListing> {
  return request<IListing>(`artifacts?${query({ cwd, path, offset, limit })}`);
}

export function previewArtifact(cwd: string, path: string): Promise<IPreview> {
  return request<IPreview>(`artifacts/preview?${query({ cwd, path })}`);
}

export function listRuns(cwd: string, limit = 20): Promise<{ runs: IRunSummary[] }> {
  return request(`runs?${query({ cwd, limit })}`);
}

export function getRun(cwd: string, name: string): Promise<IRun> {
  return request<IRun>(`runs/${encodeURIComponent(name)}?${query({ cwd })}`);
}
