/**
 * A run's page: the DAG at full size (pan, zoom, fit), and a step panel - parameters, timings,
 * error, logs (paged), outputs with previews, and lineage (which run wrote each input, which
 * runs used each output).
 */
import { ILineage, ZenmlApi } from './api';
import { stateClass } from './dag';
import { drawDag, IDagView } from './dagview';
import { el, previewNodes } from './dom';
import { describeParameters, describeStepTime, formatDuration, formatWhen, humanSize, IRun, IRunStep, loadCode, safeHref, scalarText } from './model';

export interface IRunActions {
  open(run: string): void;
  /** draws a Vega-Lite spec; false without a renderer */
  chart(spec: Record<string, unknown>, into: HTMLElement): Promise<boolean>;
  insertCode(code: string): boolean;
  error(where: HTMLElement, error: unknown): void;
  status(text: string): void;
}

export class RunPageView {
  readonly node = el('div', { cls: 'zn-view zn-run-view', zn: 'run-view' });
  run: IRun | null = null;
  private lineage: ILineage | null = null;
  private dag: IDagView | null = null;
  private readonly header = el('div', { cls: 'zn-run-header', zn: 'run-header' });
  private readonly graph = el('div', { cls: 'zn-run-graph' });
  private readonly panel = el('div', { cls: 'zn-step-panel', zn: 'step-panel' });
  private readonly detail = el('div', { cls: 'zn-step-detail', zn: 'step-detail' });

  constructor(
    private readonly api: ZenmlApi,
    private readonly cwd: () => string,
    private readonly actions: IRunActions
  ) {
    this.node.append(this.header, this.graph, el('div', { cls: 'zn-run-lower' }, this.panel, this.detail));
  }

  async show(name: string): Promise<void> {
    this.header.replaceChildren(el('h2', { cls: 'zn-title', text: name, title: name }), el('div', { cls: 'zn-meta', text: 'loading…' }));
    try {
      const [run, lineage] = await Promise.all([this.api.getRun(this.cwd(), name), this.api.getLineage(this.cwd(), name).catch(() => null)]);
      this.run = run;
      this.lineage = lineage;
      this.render();
    } catch (error) {
      this.graph.replaceChildren();
      this.panel.replaceChildren();
      this.detail.replaceChildren();
      this.actions.error(this.header, error);
    }
  }

  private render(): void {
    const run = this.run!;
    const { started, ended } = run;
    this.header.replaceChildren(
      el('h2', { cls: 'zn-title', text: run.name, title: run.name }),
      el('div', { cls: 'zn-meta', zn: 'run-summary', text: [
        `pipeline ${run.pipeline}`, run.state, started ? `started ${formatWhen(started)}` : '',
        started && ended ? formatDuration(ended - started) : '', `${run.steps.length} steps`,
        `${run.steps.filter(s => s.state === 'cached').length} cached`, `stack ${run.stack}`, run.user ? `by ${run.user}` : ''
      ].filter(Boolean).join(' · ') }));
    if (run.tracker) {
      const href = safeHref(run.tracker.url);
      const line = el('div', { cls: run.tracker.mirrored ? 'zn-meta' : 'zn-meta zn-stale', zn: 'run-tracker', text: run.tracker.text });
      if (href) {
        line.appendChild(el('span', { text: ': ' }));
        const link = el('a', { text: 'open ↗', title: href, zn: 'tracker-link' });
        link.href = href;
        link.target = '_blank';
        link.rel = 'noopener noreferrer';
        line.appendChild(link);
      }
      this.header.appendChild(line);
    }
    this.dag = drawDag(run, step => this.showStep(step), { zoomable: true });
    this.graph.replaceChildren(this.dag.node);
    this.panel.replaceChildren(...run.steps.map(step => el('div', { cls: `zn-step ${stateClass(step.state)}`, zn: 'step', step: step.name,
      onClick: () => this.showStep(step.name) },
    el('span', { cls: 'zn-name', text: step.name, title: step.name }), el('span', { cls: 'zn-meta', text: `${step.state} · ${describeStepTime(step)}` }))));
    const first = run.steps.find(s => s.state === 'failed') ?? run.steps[0];
    this.detail.replaceChildren(el('div', { cls: 'zn-meta', text: 'click a step (in the graph or the list) to see it' }));
    if (first) {
      this.showStep(first.name);
    }
  }

  showStep(name: string): void {
    const run = this.run;
    const step = run?.steps.find(s => s.name === name);
    if (!run || !step) {
      return;
    }
    this.dag?.select(name);
    this.panel.querySelectorAll<HTMLElement>('[data-zn="step"]').forEach(r => r.classList.toggle('zn-selected', r.dataset.step === name));
    const parts: Node[] = [el('h3', { cls: 'zn-subtitle', text: step.name, title: step.name }),
      el('div', { cls: 'zn-meta', zn: 'step-time', text: `${step.state} · ${describeStepTime(step)}` })];
    const params = describeParameters(step.parameters);
    parts.push(el('div', { cls: 'zn-detail', zn: 'step-parameters', text: params ? `parameters: ${params}` : 'no parameters' }));
    if (step.error) {
      parts.push(el('div', { cls: 'zn-error', zn: 'step-error', text: step.error }));
    }
    const from = this.lineage?.inputs[step.name] ?? {};
    const inputs = Object.keys(step.inputs ?? {});
    if (inputs.length) {
      const list = el('div', { cls: 'zn-lineage', zn: 'step-inputs' }, el('div', { cls: 'zn-label', text: 'inputs' }));
      for (const arg of inputs) {
        const source = from[arg];
        const line = el('div', { cls: 'zn-detail' }, el('span', { text: `${arg} ← ` }));
        if (source && source.run !== run.name) {
          line.appendChild(el('button', { cls: 'zn-link', zn: 'lineage-run', text: `${source.run} / ${source.step}`, title: `open run ${source.run}`,
            onClick: () => this.actions.open(source.run) }));
          line.appendChild(el('span', { cls: 'zn-meta', text: ' (an earlier run)' }));
        } else {
          line.appendChild(el('span', { text: source ? source.step : 'unknown' }));
        }
        list.appendChild(line);
      }
      parts.push(list);
    }
    const outputs = el('div', { cls: 'zn-lineage', zn: 'step-outputs' }, el('div', { cls: 'zn-label', text: step.outputs.length ? 'outputs' : 'no outputs' }));
    const preview = el('div', { cls: 'zn-preview', zn: 'preview' });
    for (const out of step.outputs) {
      const value = scalarText(out);
      const line = el('div', { cls: 'zn-detail' });
      line.appendChild(el('button', { cls: 'zn-link', zn: 'output', text: `${out.name} (${out.materializer})${value ? ' = ' + value : ''}`, title: out.uri,
        onClick: () => void this.preview(run, step, out.name, out.path, preview) }));
      const users = this.lineage?.outputs[step.name]?.[out.name] ?? [];
      if (users.length) {
        line.appendChild(el('span', { cls: 'zn-meta', text: ' · used by ' }));
        users.slice(0, 5).forEach((u, i) => {
          line.appendChild(el('button', { cls: 'zn-link', zn: 'lineage-user', text: u, onClick: () => this.actions.open(u) }));
          if (i < Math.min(users.length, 5) - 1) {
            line.appendChild(el('span', { text: ', ' }));
          }
        });
        if (users.length > 5) {
          line.appendChild(el('span', { cls: 'zn-meta', text: ` and ${users.length - 5} more` }));
        }
      }
      outputs.appendChild(line);
    }
    parts.push(outputs);
    const metrics = Object.entries(step.metrics ?? {});
    if (metrics.length) {
      const box = el('div', { cls: 'zn-curves', zn: 'step-metrics' }, el('div', { cls: 'zn-label', text: 'metrics' }));
      for (const [name, m] of metrics.slice(0, 12)) {
        const host = el('div', { cls: 'zn-chart', zn: 'curve' });
        host.dataset.metric = name;
        box.append(el('div', { cls: 'zn-detail', text: `${name}: last ${m.last} · min ${m.min} · max ${m.max} · ${m.count} points` }), host);
        void this.api.getMetricChart(this.cwd(), [run.name], `${step.name}.${name}`).then(({ spec }) => this.actions.chart(spec, host),
          error => this.actions.error(host, error));
      }
      parts.push(box);
    }
    if (step.log) {
      parts.push(el('button', { cls: 'zn-link', zn: 'logs', text: 'logs (what it printed)', onClick: () => void this.logs(run.name, step.name, 0, preview) }));
    }
    parts.push(preview);
    this.detail.replaceChildren(...parts);
    const firstOut = step.outputs.find(o => o.path);
    if (firstOut) {
      void this.preview(run, step, firstOut.name, firstOut.path, preview);
    }
  }

  private async preview(run: IRun, step: IRunStep, output: string, path: string | null, into: HTMLElement): Promise<void> {
    if (!path) {
      into.replaceChildren(el('div', { cls: 'zn-meta', text: 'this output is in another artifact store' }));
      return;
    }
    try {
      const p = await this.api.previewArtifact(this.cwd(), path);
      const code = loadCode({ run: run.name, step: step.name, output }, p.path);
      const actions = el('div', { cls: 'zn-actions' }, el('button', { cls: 'zn-link', zn: 'insert-code', text: 'insert code to load it', title: code,
        onClick: () => this.actions.status(this.actions.insertCode(code) ? 'code inserted into the notebook' : 'open a notebook to insert code into') }));
      into.replaceChildren(...previewNodes(p, actions));
    } catch (error) {
      this.actions.error(into, error);
    }
  }

  private async logs(run: string, step: string, offset: number, into: HTMLElement): Promise<void> {
    try {
      const page = await this.api.getLogs(this.cwd(), run, step, offset);
      const pre = offset > 0 ? into.querySelector<HTMLElement>('[data-zn="logs-text"]') : null;
      if (pre) {
        pre.textContent += page.text;
        into.querySelector('[data-zn="logs-more"]')?.remove();
      } else {
        into.replaceChildren(el('div', { cls: 'zn-subtitle', text: `${step} · logs (${humanSize(page.size)})` }),
          el('pre', { cls: 'zn-text zn-logs', zn: 'logs-text', text: page.text || '(it printed nothing)' }));
      }
      if (page.next !== null) {
        const next = page.next;
        into.appendChild(el('button', { cls: 'zn-link', zn: 'logs-more', text: 'more', onClick: () => void this.logs(run, step, next, into) }));
      }
    } catch (error) {
      this.actions.error(into, error);
    }
  }
}
