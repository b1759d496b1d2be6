/**
 * The sidebar: the active stack, one-click switching, the artifact browser with previews,
 * and recent runs. Everything user-supplied is rendered with textContent, never as HTML.
 */
import { refreshIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { ZenmlApi } from './api';
import { el, previewNodes, svgEl } from './dom';
import { stateClass } from './dag';
import { drawDag } from './dagview';
import {
  breadcrumb,
  ChangeWatcher,
  chartBars,
  defaultChart,
  describeChange,
  describeComponent,
  describeParameters,
  describeRegistry,
  describeRun,
  describeStepTime,
  formatWhen,
  humanSize,
  ICompare,
  IListing,
  IPreview,
  IRun,
  IStacks,
  KINDS,
  loadCode,
  pageLabel,
  parentPath,
  scalarText,
  stacksChanged
} from './model';

const POLL_MS = 2500;
const RUN_PAGE = 20;

const PAGE = 100;

export class ZenMLSidebar extends Widget {
  private cwd = '';
  private stacks: IStacks | null = null;
  private path = '';
  private listing: IListing | null = null;
  private timer: number | null = null;
  private readonly watcher = new ChangeWatcher();
  private readonly expanded = new Set<string>();
  private failed = false;
  private readonly picked = new Set<string>();
  private readonly compareBar = el('div', { cls: 'zn-compare-bar', zn: 'compare-bar' });
  private readonly compareBox = el('div', { cls: 'zn-compare', zn: 'compare' });
  private pipeline = '';
  private shownRuns = 0;
  private readonly stackBox = el('div', { cls: 'zn-section', zn: 'stacks' });
  private readonly browserBox = el('div', { cls: 'zn-section', zn: 'browser' });
  private readonly previewBox = el('div', { cls: 'zn-section zn-preview', zn: 'preview' });
  private readonly runsBox = el('div', { cls: 'zn-section', zn: 'runs' });
  private readonly statusLine = el('div', { cls: 'zn-status', zn: 'status' });

  constructor(
    private readonly api: ZenmlApi = new ZenmlApi(),
    /** puts code into the active notebook (a new cell below); false when there is none */
    private readonly insertCode: (code: string) => boolean = () => false,
    /** opens the full-page explorer (at a run's page) */
    private readonly openExplorer: (run?: string) => void = () => undefined
  ) {
    super();
    this.id = 'zenml-notebook-sidebar';
    this.addClass('jp-ZenMLSidebar');
    this.title.caption = 'zenml-notebook: stacks, artifacts and runs';
    const refresh = el('button', { cls: 'jp-ToolbarButtonComponent jp-mod-minimal jp-Button zn-refresh', zn: 'refresh', title: 'Refresh',
      onClick: () => void this.refresh(true) });
    refresh.setAttribute('aria-label', 'Refresh');
    refresh.appendChild(refreshIcon.element({ tag: 'span', className: 'jp-ToolbarButtonComponent-icon' }));
    const explore = el('button', { cls: 'zn-button', zn: 'open-explorer', text: 'Explorer', title: 'open the runs table, comparisons and artifact versions in a tab',
      onClick: () => this.openExplorer() });
    const header = el('div', { cls: 'zn-header jp-Toolbar' }, el('span', { cls: 'zn-brand', text: 'zenml-notebook' }), explore, refresh);
    [header, this.statusLine, this.stackBox, this.browserBox, this.previewBox, this.runsBox].forEach(n => this.node.appendChild(n));
  }

  /** The folder of the notebook in focus: its repository is shown. */
  setCwd(cwd: string): void {
    if (cwd !== this.cwd) {
      this.cwd = cwd;
      this.path = '';
      this.stacks = null;
      this.watcher.reset();
      void this.refresh(true);
    }
  }

  protected onAfterAttach(): void {
    if (this.isVisible) {
      void this.refresh(true);
    }
    this.timer = window.setInterval(() => void this.poll(), POLL_MS);
  }

  protected onAfterShow(): void {
    if (!this.watcher.known()) {
      void this.catchUp();  // first shown (or another repository): whatever happened meanwhile
    } else {
      void this.poll();  // shown again: catch up at once
    }
  }

  /** Read the change token first, then load everything: what is shown is at least that new, so
   * nothing that happened while the panel was closed (a whole quickstart) stays unseen. */
  private async catchUp(): Promise<void> {
    try {
      this.watcher.changed((await this.api.getVersion(this.cwd)).token);
    } catch {
      this.watcher.reset();
    }
    await this.refresh(true);  // stacks, the artifact browser and the runs
  }

  /** Every few seconds while visible: one cheap request; reload only when something changed. */
  private async poll(): Promise<void> {
    if (!this.watcher.shouldAsk(this.isVisible, document.hidden)) {
      return;
    }
    let token: string;
    try {
      token = (await this.api.getVersion(this.cwd)).token;
    } catch (error) {
      this.watcher.reset();  // whatever answers next is news: the panel shows errors until then
      this.failed = true;
      await this.refresh(false);  // says what is wrong, section by section
      return;
    }
    if (this.watcher.changed(token) || this.failed) {
      this.failed = false;
      await this.refresh(false);
      await Promise.all([this.loadArtifacts(this.path, 0), this.loadRuns()]);  // a run may have written new folders
    }
  }

  protected onBeforeDetach(): void {
    if (this.timer !== null) {
      window.clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** The error in place of a section's content; the section keeps its heading. */
  private showError(where: HTMLElement, error: unknown): void {
    const title = new Map<HTMLElement, string>([[this.stackBox, 'Stacks'], [this.browserBox, 'Artifact store'], [this.runsBox, 'Runs']]).get(where);
    const heading = title ? [el('div', { cls: 'zn-subtitle', text: title })] : [];
    where.replaceChildren(...heading, el('div', { cls: 'zn-error', zn: 'error', text: error instanceof Error ? error.message : String(error) }));
  }

  async refresh(force: boolean): Promise<void> {
    let next: IStacks;
    try {
      next = await this.api.getStacks(this.cwd);
    } catch (error) {
      this.showError(this.stackBox, error);
      return;
    }
    const activeChanged = this.stacks === null || this.stacks.active !== next.active;
    if (activeChanged && this.stacks !== null) {
      this.statusLine.textContent = '';  // an old "switched to" note would now be wrong
    }
    if (force || stacksChanged(this.stacks, next)) {
      this.stacks = next;
      this.renderStacks();
    }
    if (force || activeChanged) {
      this.path = activeChanged ? '' : this.path;
      await Promise.all([this.loadArtifacts(this.path, 0), this.loadRuns()]);
    }
  }

  private renderStacks(): void {
    const data = this.stacks;
    if (!data || data.repository === null) {
      this.stackBox.replaceChildren(
        el('div', { cls: 'zn-empty', zn: 'empty', text: 'No zenml-notebook repository here yet. Run `%load_ext zenml_notebook` and `%zenml stack list` in a notebook to create one.' })
      );
      return;
    }
    const active = data.stacks.find(s => s.active);
    const registry = el('div', { cls: data.registry?.stale ? 'zn-detail zn-registry zn-stale' : 'zn-detail zn-registry', zn: 'registry',
      text: describeRegistry(data.registry) });
    const card = el('div', { cls: 'zn-active', zn: 'active-stack' }, el('div', { cls: 'zn-title', text: `Active stack: ${data.active ?? ''}` }));
    if (active && describeChange(active)) {
      card.appendChild(el('div', { cls: 'zn-detail', zn: 'changed', text: describeChange(active) }));
    }
    if (active) {
      for (const [kind, label] of KINDS) {
        const c = active.components[kind];
        card.appendChild(el('div', { cls: 'zn-component' }, el('span', { cls: 'zn-kind', text: `${label}: ` }),
          el('span', { text: c.name }), el('div', { cls: 'zn-detail', text: describeComponent(c) }),
          ...(c.source ? [el('div', { cls: 'zn-detail zn-source', zn: 'override', text: c.source })] : [])));
      }
    }
    const list = el('ul', { cls: 'zn-stacks' });
    for (const stack of data.stacks) {
      const change = describeChange(stack);
      const row = el('li', { cls: stack.active ? 'zn-stack zn-current' : 'zn-stack', zn: 'stack-row', title: change ? `${stack.name}: ${change}` : stack.name },
        el('span', { cls: 'zn-name', text: stack.name, title: stack.name }));
      if (stack.active) {
        row.appendChild(el('span', { cls: 'zn-badge', text: 'active' }));
      } else {
        row.appendChild(el('button', { cls: 'zn-link', text: 'switch', zn: 'switch', onClick: () => void this.switchTo(stack.name) }));
      }
      list.appendChild(row);
    }
    this.stackBox.replaceChildren(registry, card, el('div', { cls: 'zn-subtitle', text: 'Stacks' }), list);
  }

  /** Switch the active stack (the status bar's menu calls it too). */
  async switchTo(name: string): Promise<void> {
    this.statusLine.textContent = `switching to ${name}...`;
    try {
      await this.api.setActiveStack(this.cwd, name);
      this.statusLine.textContent = `active stack: ${name}`;
      this.previewBox.replaceChildren();  // a preview of the previous stack's store is not this stack's
      this.compareBox.replaceChildren();
      await this.refresh(true);
    } catch (error) {
      this.statusLine.textContent = error instanceof Error ? error.message : String(error);
    }
  }

  private async loadArtifacts(path: string, offset: number): Promise<void> {
    try {
      const listing = await this.api.listArtifacts(this.cwd, path, offset, PAGE);
      this.path = path;
      this.listing = offset > 0 && this.listing && this.listing.path === listing.path
        ? { ...listing, entries: [...this.listing.entries, ...listing.entries], offset: 0 }
        : listing;
      this.renderArtifacts();
    } catch (error) {
      this.showError(this.browserBox, error);
    }
  }

  private renderArtifacts(): void {
    const listing = this.listing;
    if (!listing || listing.store === null) {
      this.browserBox.replaceChildren();
      return;
    }
    const where = el('div', { cls: 'zn-path', zn: 'path', title: `${listing.store}${listing.path ? '/' + listing.path : ''}` });
    const crumbs = breadcrumb(listing.store, listing.path);
    crumbs.forEach((crumb, i) => {
      if (i) {
        where.appendChild(el('span', { cls: 'zn-sep', text: '/' }));
      }
      where.appendChild(i === crumbs.length - 1
        ? el('span', { cls: 'zn-crumb zn-here', zn: 'crumb', text: crumb.label })
        : el('span', { cls: 'zn-crumb', zn: 'crumb', text: crumb.label, onClick: () => void this.loadArtifacts(crumb.path, 0) }));
    });
    const rows = el('ul', { cls: 'zn-entries' });
    if (listing.path) {
      rows.appendChild(el('li', { cls: 'zn-entry zn-up', text: '..', zn: 'up', onClick: () => void this.loadArtifacts(parentPath(listing.path), 0) }));
    }
    for (const entry of listing.entries) {
      const open = entry.kind === 'folder' ? () => void this.loadArtifacts(entry.path, 0) : () => void this.preview(entry.path);
      rows.appendChild(el('li', { cls: `zn-entry zn-${entry.kind}`, zn: 'entry', title: entry.path, onClick: entry.kind === 'link' ? undefined : open },
        el('span', { cls: 'zn-name', text: entry.kind === 'folder' ? `${entry.name}/` : entry.name, title: entry.path }),
        el('span', { cls: 'zn-meta', text: [humanSize(entry.size), formatWhen(entry.modified)].filter(Boolean).join(' · ') })));
    }
    const shown = listing.offset + listing.entries.length;
    const footer = el('div', { cls: 'zn-page', zn: 'page', text: pageLabel({ ...listing, offset: 0 }) });
    if (shown < listing.total) {
      footer.appendChild(el('button', { cls: 'zn-link', text: 'more', zn: 'more', onClick: () => void this.loadArtifacts(listing.path, shown) }));
    }
    this.browserBox.replaceChildren(el('div', { cls: 'zn-subtitle', text: 'Artifact store' }), where, rows, footer);
  }

  private async preview(path: string, source: { run: string; step: string; output: string } | null = null): Promise<void> {
    try {
      this.renderPreview(await this.api.previewArtifact(this.cwd, path), source);
    } catch (error) {
      this.showError(this.previewBox, error);
    }
  }

  private renderPreview(p: IPreview, source: { run: string; step: string; output: string } | null = null): void {
    const actions = el('div', { cls: 'zn-actions', zn: 'preview-actions' });
    if (p.uri) {
      const uri = p.uri;
      actions.appendChild(el('button', { cls: 'zn-link', zn: 'copy-uri', text: 'copy URI', title: uri,
        onClick: () => void navigator.clipboard?.writeText(uri).then(() => { this.statusLine.textContent = 'URI copied'; }, () => { this.statusLine.textContent = uri; }) }));
    }
    const code = loadCode(source, p.path);
    actions.appendChild(el('button', { cls: 'zn-link', zn: 'insert-code', text: 'insert code to load it', title: code,
      onClick: () => { this.statusLine.textContent = this.insertCode(code) ? 'code inserted into the notebook' : 'open a notebook to insert code into'; } }));
    const parts = previewNodes(p, actions);
    this.previewBox.replaceChildren(...parts);
  }

  private async loadRuns(more = false): Promise<void> {
    try {
      const page = await this.api.listRuns(this.cwd, RUN_PAGE, 0, this.pipeline);
      const runs = more || this.shownRuns > RUN_PAGE
        ? [...page.runs, ...(await this.api.listRuns(this.cwd, Math.max(this.shownRuns, RUN_PAGE * 2) - RUN_PAGE, RUN_PAGE, this.pipeline)).runs]
        : page.runs;
      this.shownRuns = runs.length;
      const list = el('ul', { cls: 'zn-runs' });
      for (const run of runs) {
        const item = el('li', { cls: `zn-run ${stateClass(run.state)}`, zn: 'run' });
        const details = el('div', { cls: 'zn-run-steps' });
        const pick = el('input', { cls: 'zn-pick', zn: 'pick', title: 'select to compare' });
        pick.type = 'checkbox';
        pick.checked = this.picked.has(run.name);
        pick.addEventListener('click', event => event.stopPropagation());
        pick.addEventListener('change', () => {
          if (pick.checked) {
            this.picked.add(run.name);
          } else {
            this.picked.delete(run.name);
          }
          this.renderCompareButton();
        });
        if (this.expanded.has(run.name)) {
          void this.expandRun(run.name, details);  // kept open across reloads (a run in progress grows)
        }
        item.appendChild(el('div', { cls: 'zn-run-head', onClick: () => void this.toggleRun(run.name, details) },
          pick, el('span', { cls: 'zn-name', text: run.name, title: run.name }),
          el('button', { cls: 'zn-link zn-open', zn: 'open-run', text: 'open', title: `open ${run.name} in the explorer`,
            onClick: () => this.openExplorer(run.name) }),
          el('div', { cls: 'zn-detail', zn: 'run-summary', text: `${describeRun(run)} · ${formatWhen(run.started)}` })));
        item.appendChild(details);
        list.appendChild(item);
      }
      const filter = el('select', { cls: 'zn-filter', zn: 'pipeline-filter', title: 'show the runs of one pipeline' });
      for (const name of ['', ...page.pipelines]) {
        const option = el('option', { text: name || 'all pipelines' });
        option.value = name;
        option.selected = name === this.pipeline;
        filter.appendChild(option);
      }
      filter.addEventListener('change', () => {
        this.pipeline = filter.value;
        this.shownRuns = 0;
        void this.loadRuns();
      });
      const footer = runs.length < page.total
        ? el('button', { cls: 'zn-link', zn: 'more-runs', text: `more (${runs.length} of ${page.total})`, onClick: () => void this.loadRuns(true) })
        : el('div', { cls: 'zn-meta', text: page.total ? `${page.total} run(s)` : '' });
      this.runsBox.replaceChildren(el('div', { cls: 'zn-subtitle', text: 'Runs' }), filter, this.compareBar,
        runs.length ? list : el('div', { cls: 'zn-empty', text: 'No runs on this stack yet.' }), footer, this.compareBox);
      this.renderCompareButton();
    } catch (error) {
      this.showError(this.runsBox, error);
    }
  }

  private async toggleRun(name: string, into: HTMLElement): Promise<void> {
    if (into.childElementCount) {
      into.replaceChildren();
      this.expanded.delete(name);
      return;
    }
    this.expanded.add(name);
    await this.expandRun(name, into);
  }

  private renderCompareButton(): void {
    const n = this.picked.size;
    this.compareBar.replaceChildren(...(n >= 2
      ? [el('button', { cls: 'zn-link', zn: 'compare-button', text: `compare ${n} runs`, onClick: () => void this.compare() }),
        el('button', { cls: 'zn-link', text: 'clear', onClick: () => { this.picked.clear(); void this.loadRuns(); this.compareBox.replaceChildren(); } })]
      : n === 1 ? [el('span', { cls: 'zn-meta', text: 'select one more run to compare' })] : []));
  }

  /** The picked runs side by side: the rows that differ, and a bar chart of a scalar output. */
  private async compare(): Promise<void> {
    let cmp: ICompare;
    try {
      cmp = await this.api.compareRuns(this.cwd, [...this.picked]);
    } catch (error) {
      this.showError(this.compareBox, error);
      return;
    }
    const table = el('table', { cls: 'zn-compare-table', zn: 'compare-table' });
    const head = el('tr', {}, el('th', { text: '' }), ...cmp.runs.map(r => el('th', { text: r, title: r })));
    table.appendChild(head);
    const differing = cmp.rows.filter(r => r.differs);
    for (const row of differing.length ? differing : cmp.rows) {
      table.appendChild(el('tr', {}, el('th', { text: row.key }), ...row.values.map(v => el('td', { text: v }))));
    }
    const parts: HTMLElement[] = [el('div', { cls: 'zn-subtitle', text: differing.length ? `${differing.length} differences` : 'no differences' }), table];
    const first = defaultChart(cmp);
    if (first !== null) {
      const chart = el('div', { cls: 'zn-chart', zn: 'chart' });
      const choose = el('select', { cls: 'zn-filter', zn: 'chart-choice', title: 'the scalar output to chart' });
      for (const key of Object.keys(cmp.scalars)) {
        const option = el('option', { text: key });
        option.value = key;
        option.selected = key === first;
        choose.appendChild(option);
      }
      const draw = () => chart.replaceChildren(this.barChart(cmp, choose.value));
      choose.addEventListener('change', draw);
      draw();
      parts.push(choose, chart);
    }
    this.compareBox.replaceChildren(...parts);
  }

  private barChart(cmp: ICompare, key: string): SVGElement {
    const bars = chartBars(cmp, key, 120);
    const rowH = 18;
    const svg = svgEl('svg', { width: '230', height: String(bars.length * rowH + 4), role: 'img', 'aria-label': `${key} across runs` });
    bars.forEach((bar, i) => {
      const y = i * rowH + 2;
      const name = svgEl('text', { x: '0', y: String(y + 12), class: 'zn-chart-label' });
      name.textContent = bar.run.length > 14 ? '…' + bar.run.slice(-13) : bar.run;
      const title = svgEl('title', {});
      title.textContent = `${bar.run}: ${bar.value}`;
      const rect = svgEl('rect', { x: '92', y: String(y + 2), width: String(bar.length), height: String(rowH - 6),
        class: bar.value < 0 ? 'zn-bar zn-negative' : 'zn-bar' });
      rect.appendChild(title);
      const value = svgEl('text', { x: String(96 + bar.length), y: String(y + 12), class: 'zn-chart-value' });
      value.textContent = String(bar.value);
      svg.append(name, rect, value);
    });
    return svg;
  }

  /** The run's DAG; clicking a step marks its row and previews its first output. */
  private drawDag(run: IRun, into: HTMLElement): HTMLElement {
    return drawDag(run, name => {
      const row = Array.from(into.querySelectorAll<HTMLElement>('[data-zn="step"]')).find(r => r.dataset.step === name);
      into.querySelectorAll('.zn-step.zn-selected').forEach(n => n.classList.remove('zn-selected'));
      row?.classList.add('zn-selected');
      row?.scrollIntoView({ block: 'nearest' });
      const first = run.steps.find(s => s.name === name)?.outputs.find(o => o.path);
      if (first?.path) {
        void this.preview(first.path, { run: run.name, step: name, output: first.name });
      }
    }).node;
  }

  /** A page of a step's output in the preview area, with "more" while there is more. */
  private async showLogs(run: string, step: string, offset: number): Promise<void> {
    try {
      const page = await this.api.getLogs(this.cwd, run, step, offset);
      const pre = offset > 0 ? this.previewBox.querySelector<HTMLElement>('[data-zn="logs-text"]') : null;
      if (pre) {
        pre.textContent += page.text;
        this.previewBox.querySelector('[data-zn="logs-more"]')?.remove();
      } else {
        this.previewBox.replaceChildren(el('div', { cls: 'zn-subtitle', text: `${step} · logs` }),
          el('div', { cls: 'zn-detail', text: `${run} · ${humanSize(page.size)}` }),
          el('pre', { cls: 'zn-text', zn: 'logs-text', text: page.text || '(it printed nothing)' }));
      }
      if (page.next !== null) {
        const next = page.next;
        this.previewBox.appendChild(el('button', { cls: 'zn-link', zn: 'logs-more', text: 'more', onClick: () => void this.showLogs(run, step, next) }));
      }
    } catch (error) {
      this.showError(this.previewBox, error);
    }
  }

  private async expandRun(name: string, into: HTMLElement): Promise<void> {
    try {
      const run = await this.api.getRun(this.cwd, name);
      into.replaceChildren(this.drawDag(run, into));
      for (const step of run.steps) {
        const row = el('div', { cls: `zn-step ${stateClass(step.state)}`, zn: 'step', step: step.name },
          el('span', { cls: 'zn-name', text: step.name, title: step.name }), el('span', { cls: 'zn-meta', text: `${step.state} · ${describeStepTime(step)}` }));
        const params = describeParameters(step.parameters);
        if (params) {
          row.appendChild(el('div', { cls: 'zn-detail', zn: 'parameters', text: params }));
        }
        if (step.error) {
          row.appendChild(el('div', { cls: 'zn-error', text: step.error }));
        }
        if (step.log) {
          row.appendChild(el('div', { cls: 'zn-output', zn: 'logs', text: 'logs (what it printed)', onClick: () => void this.showLogs(run.name, step.name, 0) }));
        }
        for (const out of step.outputs) {
          const path = out.path;
          const value = scalarText(out);
          row.appendChild(el('div', { cls: 'zn-output', zn: 'output', title: out.uri, text: `${out.name} (${out.materializer})${value ? ' = ' + value : ''}`,
            onClick: path ? () => void this.preview(path, { run: run.name, step: step.name, output: out.name }) : undefined }));
        }
        into.appendChild(row);
      }
    } catch (error) {
      this.showError(into, error);
    }
  }
}
