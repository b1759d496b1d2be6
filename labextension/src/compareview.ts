/**
 * Runs side by side: the parameters and outputs that differ (or all), and a chart drawn from
 * the same Vega-Lite spec the notebook's `runs compare` emits - a scalar output across the runs,
 * or against a parameter - through JupyterLab's own Vega renderer.
 */
import { ZenmlApi } from './api';
import { el } from './dom';
import { ICompare } from './model';

/** Draws a Vega-Lite spec into a node (JupyterLab's renderer); false when none is available. */
export type ChartRenderer = (spec: Record<string, unknown>, into: HTMLElement) => Promise<boolean>;

export class CompareView {
  readonly node = el('div', { cls: 'zn-view zn-compare-view', zn: 'compare-view' });
  runs: string[] = [];
  private cmp: ICompare | null = null;
  private onlyDiffs = true;
  private readonly yChoice = el('select', { cls: 'zn-filter', zn: 'chart-y', title: 'the output to chart' });
  private readonly xChoice = el('select', { cls: 'zn-filter', zn: 'chart-x', title: 'against a parameter (points), or across runs (bars)' });
  private readonly chart = el('div', { cls: 'zn-chart-box', zn: 'compare-chart' });
  private readonly table = el('div', { cls: 'zn-table-box', zn: 'compare-table-box' });
  private readonly head = el('div', { cls: 'zn-meta', zn: 'compare-head' });
  private readonly metric = el('select', { cls: 'zn-filter', zn: 'overlay-metric', title: 'a metric the runs logged (log_metric)' });
  private readonly xAxis = el('select', { cls: 'zn-filter', zn: 'overlay-x', title: 'x: the step index or seconds since the run\'s first point' });
  private readonly smoothing = el('input', { cls: 'zn-slider', zn: 'overlay-smooth', title: 'smoothing (exponential moving average)' });
  private readonly logScale = el('input', { zn: 'overlay-log', title: 'a log scale for the values' });
  private readonly overlay = el('div', { cls: 'zn-chart-box', zn: 'overlay-chart' });
  private readonly overlayBar = el('div', { cls: 'zn-toolbar', zn: 'overlay-bar' });

  constructor(
    private readonly api: ZenmlApi,
    private readonly cwd: () => string,
    private readonly render: ChartRenderer,
    private readonly error: (where: HTMLElement, error: unknown) => void
  ) {
    const diffs = el('input');
    diffs.type = 'checkbox';
    diffs.checked = true;
    diffs.addEventListener('change', () => {
      this.onlyDiffs = diffs.checked;
      this.renderTable();
    });
    this.yChoice.addEventListener('change', () => void this.drawChart());
    this.xChoice.addEventListener('change', () => void this.drawChart());
    for (const [value, text] of [['step', 'by step'], ['time', 'by wall time']]) {
      this.xAxis.appendChild(Object.assign(el('option', { text }), { value }));
    }
    this.smoothing.type = 'range';
    this.smoothing.min = '0';
    this.smoothing.max = '0.95';
    this.smoothing.step = '0.05';
    this.smoothing.value = '0';
    this.logScale.type = 'checkbox';
    for (const input of [this.metric, this.xAxis, this.smoothing, this.logScale]) {
      input.addEventListener('change', () => void this.drawOverlay());
    }
    this.overlayBar.append(el('span', { text: 'metric ' }), this.metric, this.xAxis, el('label', { cls: 'zn-check' }, el('span', { text: 'smoothing' }), this.smoothing),
      el('label', { cls: 'zn-check' }, this.logScale, el('span', { text: 'log scale' })));
    this.node.append(this.head,
      el('div', { cls: 'zn-toolbar' }, el('span', { text: 'chart ' }), this.yChoice, el('span', { text: ' by ' }), this.xChoice,
        el('label', { cls: 'zn-check' }, diffs, el('span', { text: 'only what differs' }))),
      this.chart, this.overlayBar, this.overlay, this.table);
  }

  async show(runs: string[]): Promise<void> {
    this.runs = runs;
    if (runs.length < 2) {
      this.cmp = null;
      this.head.textContent = 'select two or more runs in the runs table, then Compare';
      this.chart.replaceChildren();
      this.table.replaceChildren();
      return;
    }
    this.head.textContent = `${runs.length} runs`;
    try {
      this.cmp = await this.api.compareRuns(this.cwd(), runs);
    } catch (error) {
      this.error(this.table, error);
      return;
    }
    const scalars = Object.keys(this.cmp.scalars).map(k => k.replace(' -> ', '.'));
    const params = this.cmp.rows.map(r => r.key).filter(k => !k.includes(' -> '));
    const differs = new Set(this.cmp.rows.filter(r => r.differs).map(r => r.key.replace(' -> ', '.')));
    this.yChoice.replaceChildren(...scalars.map(k => Object.assign(el('option', { text: `→ ${k}` }), { value: k })));
    this.yChoice.value = scalars.find(k => differs.has(k)) ?? scalars[0] ?? '';
    this.xChoice.replaceChildren(Object.assign(el('option', { text: 'run (bars)' }), { value: '' }),
      ...params.map(k => Object.assign(el('option', { text: k }), { value: k })));
    this.xChoice.value = '';
    this.renderTable();
    const metrics = this.cmp.metrics ?? [];
    this.overlayBar.hidden = metrics.length === 0;
    this.metric.replaceChildren(...metrics.map(k => Object.assign(el('option', { text: k }), { value: k })));
    await Promise.all([this.drawChart(), this.drawOverlay()]);
  }

  /** One metric of the compared runs as lines, drawn by the same renderer. */
  async drawOverlay(): Promise<void> {
    const metric = this.metric.value;
    if (!metric) {
      this.overlay.replaceChildren();
      return;
    }
    try {
      const { spec } = await this.api.getMetricChart(this.cwd(), this.runs, metric, this.xAxis.value as 'step' | 'time', Number(this.smoothing.value), this.logScale.checked);
      const host = el('div', { cls: 'zn-chart', zn: 'overlay' });
      this.overlay.replaceChildren(host);
      if (!(await this.render(spec, host))) {
        host.replaceChildren(el('div', { cls: 'zn-meta', text: 'this Jupyter has no Vega renderer' }));
      }
    } catch (error) {
      this.error(this.overlay, error);
    }
  }

  private async drawChart(): Promise<void> {
    const y = this.yChoice.value;
    if (!y) {
      this.chart.replaceChildren(el('div', { cls: 'zn-meta', text: 'no scalar outputs to chart (steps that return a number have one)' }));
      return;
    }
    try {
      const { spec } = await this.api.getChart(this.cwd(), this.runs, y, this.xChoice.value);
      const host = el('div', { cls: 'zn-chart', zn: 'chart' });
      this.chart.replaceChildren(host);
      if (!(await this.render(spec, host))) {
        host.replaceChildren(el('div', { cls: 'zn-meta', text: 'this Jupyter has no Vega renderer; the table below has the values' }));
      }
    } catch (error) {
      this.error(this.chart, error);
    }
  }

  private renderTable(): void {
    const cmp = this.cmp;
    if (!cmp) {
      return;
    }
    const table = el('table', { cls: 'zn-grid', zn: 'compare-table' });
    table.appendChild(el('thead', {}, el('tr', {}, el('th', { text: '' }), ...cmp.runs.map(r => el('th', { text: r, title: r })))));
    const body = el('tbody');
    const rows = cmp.rows.filter(r => r.differs || !this.onlyDiffs);
    for (const row of rows) {
      body.appendChild(el('tr', { cls: row.differs ? 'zn-differs' : '' }, el('th', { text: row.key, title: row.key }),
        ...row.values.map(v => el('td', { cls: 'zn-cell', text: v, title: v }))));
    }
    table.appendChild(body);
    this.table.replaceChildren(rows.length ? table : el('div', { cls: 'zn-meta', text: 'these runs have the same parameters and outputs' }));
  }
}
