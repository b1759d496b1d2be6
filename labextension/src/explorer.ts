/**
 * The full-page explorer, a main-area tab: the runs table, a run's page, the comparison and the
 * named artifacts, one view each (runsview, runview, compareview, versionsview) over the same
 * REST client and change watcher as the sidebar. It reloads what it shows when the store's
 * change token moves, polling only while it is visible.
 */
import { Widget } from '@lumino/widgets';

import { ApiError, IDeletion, ZenmlApi } from './api';
import { ChartRenderer, CompareView } from './compareview';
import { el } from './dom';
import { ChangeWatcher, humanSize } from './model';
import { RunsTableView } from './runsview';
import { RunPageView } from './runview';
import { VersionsView } from './versionsview';

const POLL_MS = 2500;
type Tab = 'runs' | 'run' | 'compare' | 'artifacts';

export interface IExplorerHost {
  insertCode(code: string): boolean;
  /** shows what a deletion removes and asks; true to go ahead */
  confirmDelete(plan: IDeletion): Promise<boolean>;
  askTag(name: string, version: number): Promise<string | null>;
  renderChart: ChartRenderer;
}

export function errorText(error: unknown): string {
  return error instanceof ApiError || error instanceof Error ? error.message : String(error);
}

export class ZenMLExplorer extends Widget {
  readonly runsView: RunsTableView;
  readonly runView: RunPageView;
  readonly compareView: CompareView;
  readonly versionsView: VersionsView;
  private tab: Tab = 'runs';
  private readonly tabs = el('div', { cls: 'zn-tabs', zn: 'explorer-tabs' });
  private readonly statusLine = el('div', { cls: 'zn-status', zn: 'explorer-status' });
  private readonly stackLine = el('span', { cls: 'zn-meta', zn: 'explorer-stack' });
  private readonly watcher = new ChangeWatcher();
  private timer: number | null = null;

  constructor(
    private cwd: string,
    private readonly host: IExplorerHost,
    private readonly api: ZenmlApi = new ZenmlApi()
  ) {
    super();
    this.id = 'zenml-notebook-explorer';
    this.addClass('jp-ZenMLExplorer');
    this.title.label = 'Runs';
    this.title.caption = 'zenml-notebook: runs, comparisons and artifact versions';
    this.title.closable = true;
    this.node.tabIndex = -1;  // focusable: Lab tracks the tab in front by focus
    const where = () => this.cwd;
    const error = (into: HTMLElement, e: unknown) => into.replaceChildren(el('div', { cls: 'zn-error', zn: 'error', text: errorText(e) }));
    const status = (text: string) => {
      this.statusLine.textContent = text;
    };
    this.runsView = new RunsTableView(this.api, where, {
      open: run => void this.openRun(run),
      compare: runs => void this.compare(runs),
      remove: runs => void this.remove(runs),
      error
    });
    this.runView = new RunPageView(this.api, where, {
      open: run => void this.openRun(run), insertCode: code => host.insertCode(code), error, status, chart: host.renderChart
    });
    this.compareView = new CompareView(this.api, where, host.renderChart, error);
    this.versionsView = new VersionsView(this.api, where, {
      open: run => void this.openRun(run), insertCode: code => host.insertCode(code), askTag: (n, v) => host.askTag(n, v), error, status
    });
    const header = el('div', { cls: 'zn-explorer-header' }, this.tabs, this.stackLine,
      el('button', { cls: 'zn-button', zn: 'explorer-refresh', text: 'Refresh', onClick: () => void this.reload() }));
    this.node.append(header, this.statusLine, this.runsView.node, this.runView.node, this.compareView.node, this.versionsView.node);
    this.renderTabs();
  }

  setCwd(cwd: string): void {
    if (cwd !== this.cwd) {
      this.cwd = cwd;
      this.watcher.reset();
      if (this.isVisible) {
        void this.reload();
      }
    }
  }

  /** Show a tab; ``run`` opens that run's page. */
  async showTab(tab: Tab, run?: string): Promise<void> {
    this.tab = tab;
    this.renderTabs();
    if (tab === 'run' && run) {
      await this.runView.show(run);
    } else if (tab === 'runs') {
      await this.runsView.update();
    } else if (tab === 'artifacts') {
      await this.versionsView.update();
    }
  }

  openRun(name: string): Promise<void> {
    return this.showTab('run', name);
  }

  async compare(runs: string[]): Promise<void> {
    this.tab = 'compare';
    this.renderTabs();
    await this.compareView.show(runs);
  }

  private renderTabs(): void {
    const label: Record<Tab, string> = { runs: 'Runs', run: this.runView.run ? `Run · ${this.runView.run.name}` : 'Run', compare: 'Compare', artifacts: 'Artifacts' };
    const tabs: Tab[] = ['runs', 'run', 'compare', 'artifacts'];
    this.tabs.replaceChildren(...tabs.filter(t => t !== 'run' || this.runView.run).map(t => {
      const b = el('button', { cls: `zn-tab${t === this.tab ? ' zn-active' : ''}`, zn: `tab-${t}`, text: label[t], title: label[t],
        onClick: () => void (t === 'run' ? this.showTab('run', this.runView.run?.name) : t === 'compare' ? this.compare(this.compareView.runs) : this.showTab(t)) });
      b.setAttribute('role', 'tab');
      b.setAttribute('aria-selected', String(t === this.tab));
      return b;
    }));
    this.runsView.node.hidden = this.tab !== 'runs';
    this.runView.node.hidden = this.tab !== 'run';
    this.compareView.node.hidden = this.tab !== 'compare';
    this.versionsView.node.hidden = this.tab !== 'artifacts';
  }

  /** Reload what the current tab shows (the store changed, or Refresh). */
  async reload(): Promise<void> {
    if (this.tab === 'runs') {
      await this.runsView.update();
    } else if (this.tab === 'run' && this.runView.run) {
      await this.runView.show(this.runView.run.name);
    } else if (this.tab === 'artifacts') {
      await this.versionsView.update();
    }
    this.stackLine.textContent = this.runsView.page?.stack ? `stack ${this.runsView.page.stack}` : '';
  }

  private async remove(runs: string[]): Promise<void> {
    if (!runs.length) {
      this.statusLine.textContent = 'select the runs to delete first';
      return;
    }
    try {
      const plan = await this.api.deleteRuns(this.cwd, runs, true);
      if (!(await this.host.confirmDelete(plan))) {
        this.statusLine.textContent = 'nothing was deleted';
        return;
      }
      const done = await this.api.deleteRuns(this.cwd, runs, false);
      runs.forEach(r => this.runsView.selected.delete(r));
      this.statusLine.textContent = `deleted ${done.runs.length} run(s), ${done.artifact_count} artifact(s), ${humanSize(done.bytes)}`;
      await this.runsView.update();
    } catch (error) {
      this.statusLine.replaceChildren(el('span', { cls: 'zn-error', zn: 'error', text: errorText(error) }));
    }
  }

  private async poll(): Promise<void> {
    if (!this.watcher.shouldAsk(this.isVisible, document.hidden)) {
      return;
    }
    try {
      const { token } = await this.api.getVersion(this.cwd);
      if (this.watcher.changed(token)) {
        await this.reload();
      }
    } catch {
      // the views show the store's error when they load
    }
  }

  protected onActivateRequest(): void {
    this.node.focus();
  }

  protected onAfterShow(): void {
    void this.reload();
    if (this.timer === null) {
      this.timer = window.setInterval(() => void this.poll(), POLL_MS);
    }
  }

  protected onAfterHide(): void {
    if (this.timer !== null) {
      window.clearInterval(this.timer);
      this.timer = null;
    }
  }

  dispose(): void {
    this.onAfterHide();
    super.dispose();
  }
}
