/**
 * The runs table: one row per run, a column per parameter and scalar output, sorted and
 * filtered by the server (100 000 runs stay fast), paged; select runs to compare or delete.
 */
import { ZenmlApi } from './api';
import { stateClass } from './dag';
import { el } from './dom';
import { allColumns, cellText, defaultVisible, IColumn, INITIAL, ITablePage, ITableState, nextSort, rangeLabel } from './table';

const COLUMNS_KEY = 'zenml-notebook:runs-columns';
const STATES = ['', 'running', 'complete', 'failed', 'cancelled', 'incomplete'];

export interface IRunsActions {
  open(run: string): void;
  compare(runs: string[]): void;
  remove(runs: string[]): void;
  error(where: HTMLElement, error: unknown): void;
}

export class RunsTableView {
  readonly node = el('div', { cls: 'zn-view zn-runs-view', zn: 'runs-table-view' });
  state: ITableState = { ...INITIAL };
  page: ITablePage | null = null;
  readonly selected = new Set<string>();
  private visible: string[] | null = null;
  private readonly search = el('input', { cls: 'zn-search', zn: 'runs-search', title: 'search run names, pipelines and parameter values (e.g. lr=0.1)' });
  private readonly pipeline = el('select', { cls: 'zn-filter', zn: 'runs-pipeline', title: 'only runs of this pipeline' });
  private readonly stateFilter = el('select', { cls: 'zn-filter', zn: 'runs-state', title: 'only runs in this state' });
  private readonly range = el('span', { cls: 'zn-meta', zn: 'runs-range' });
  private readonly body = el('div', { cls: 'zn-table-box', zn: 'runs-table-box' });
  private readonly chooser = el('details', { cls: 'zn-columns', zn: 'columns' });
  private readonly selection = el('span', { cls: 'zn-meta', zn: 'selection' });
  private timer: number | null = null;
  private loading = 0;

  constructor(
    private readonly api: ZenmlApi,
    private readonly cwd: () => string,
    private readonly actions: IRunsActions
  ) {
    this.search.type = 'search';
    this.search.placeholder = 'search runs and parameters';
    this.search.addEventListener('input', () => {
      if (this.timer !== null) {
        window.clearTimeout(this.timer);
      }
      this.timer = window.setTimeout(() => this.update({ text: this.search.value, offset: 0 }), 250);
    });
    for (const s of STATES) {
      const option = el('option', { text: s || 'any state' });
      option.value = s;
      this.stateFilter.appendChild(option);
    }
    this.stateFilter.addEventListener('change', () => this.update({ state: this.stateFilter.value, offset: 0 }));
    this.pipeline.addEventListener('change', () => this.update({ pipeline: this.pipeline.value, offset: 0 }));
    try {
      const saved = JSON.parse(window.localStorage.getItem(COLUMNS_KEY) ?? 'null');
      this.visible = Array.isArray(saved) ? saved.filter((c: unknown) => typeof c === 'string') : null;
    } catch {
      this.visible = null;
    }
    const toolbar = el('div', { cls: 'zn-toolbar' },
      this.search, this.pipeline, this.stateFilter, this.chooser,
      el('button', { cls: 'zn-button', zn: 'compare-selected', text: 'Compare', title: 'compare the selected runs',
        onClick: () => this.actions.compare([...this.selected]) }),
      el('button', { cls: 'zn-button zn-danger', zn: 'delete-selected', text: 'Delete…', title: 'delete the selected runs (shows what goes first)',
        onClick: () => this.actions.remove([...this.selected]) }),
      this.selection);
    const pager = el('div', { cls: 'zn-toolbar' },
      el('button', { cls: 'zn-link', zn: 'page-prev', text: '‹ newer', onClick: () => this.update({ offset: Math.max(0, this.state.offset - this.state.limit) }) }),
      this.range,
      el('button', { cls: 'zn-link', zn: 'page-next', text: 'older ›', onClick: () => {
        if (this.page && (this.page.matched === null || this.state.offset + this.state.limit < this.page.matched)) {
          this.update({ offset: this.state.offset + this.state.limit });
        }
      } }));
    this.node.append(toolbar, this.body, pager);
  }

  /** Change the query and load; also what a change in the store calls (no arguments). */
  async update(change: Partial<ITableState> = {}): Promise<void> {
    this.state = { ...this.state, ...change };
    const ticket = ++this.loading;
    try {
      const page = await this.api.getTable(this.cwd(), this.state);
      if (ticket !== this.loading) {
        return;  // a newer query was sent meanwhile
      }
      this.page = page;
      this.render();
      if (page.counting) {  // the server is reading every run for the first time: ask again shortly
        window.setTimeout(() => void this.update(), 1000);
      }
    } catch (error) {
      this.actions.error(this.body, error);
    }
  }

  private columns(): IColumn[] {
    const page = this.page!;
    const every = allColumns(page);
    const wanted = new Set(this.visible ?? defaultVisible(page));
    return every.filter(c => wanted.has(c.id));
  }

  private renderChooser(): void {
    const page = this.page!;
    const shown = new Set(this.columns().map(c => c.id));
    const list = el('div', { cls: 'zn-columns-list' });
    for (const column of allColumns(page)) {
      const box = el('input');
      box.type = 'checkbox';
      box.checked = shown.has(column.id);
      box.dataset.column = column.id;
      box.addEventListener('change', () => {
        const now = new Set(this.columns().map(c => c.id));
        if (box.checked) {
          now.add(column.id);
        } else {
          now.delete(column.id);
        }
        this.visible = allColumns(page).map(c => c.id).filter(id => now.has(id));
        window.localStorage.setItem(COLUMNS_KEY, JSON.stringify(this.visible));
        this.render();
      });
      list.appendChild(el('label', { cls: 'zn-check', title: column.label }, box, el('span', { text: column.label })));
    }
    const open = this.chooser.open;
    this.chooser.replaceChildren(el('summary', { cls: 'zn-button', text: 'Columns' }), list);
    this.chooser.open = open;
  }

  private renderFilters(): void {
    const page = this.page!;
    const options = ['', ...page.pipelines];
    if (this.pipeline.options.length !== options.length || options.some((p, i) => this.pipeline.options[i]?.value !== p)) {
      this.pipeline.replaceChildren(...options.map(p => {
        const option = el('option', { text: p || 'every pipeline' });
        option.value = p;
        return option;
      }));
    }
    this.pipeline.value = this.state.pipeline;
  }

  render(): void {
    const page = this.page;
    if (!page) {
      return;
    }
    this.renderFilters();
    this.renderChooser();
    this.range.textContent = rangeLabel(page);
    const columns = this.columns();
    const table = el('table', { cls: 'zn-grid', zn: 'runs-table' });
    const head = el('tr', {}, el('th', { cls: 'zn-pick' }));
    for (const column of columns) {
      const active = this.state.sort === column.id;
      const th = el('th', { cls: active ? 'zn-sorted' : '', title: `sort by ${column.label}`, zn: 'column',
        text: column.label + (active ? (this.state.descending ? ' ▼' : ' ▲') : ''),
        onClick: () => void this.update({ ...nextSort(this.state, column), offset: 0 }) });
      th.dataset.column = column.id;
      th.setAttribute('aria-sort', active ? (this.state.descending ? 'descending' : 'ascending') : 'none');
      head.appendChild(th);
    }
    table.appendChild(el('thead', {}, head));
    const body = el('tbody');
    for (const row of page.rows) {
      const pick = el('input');
      pick.type = 'checkbox';
      pick.checked = this.selected.has(row.name);
      pick.title = `select ${row.name}`;
      pick.addEventListener('change', () => {
        if (pick.checked) {
          this.selected.add(row.name);
        } else {
          this.selected.delete(row.name);
        }
        this.renderSelection();
      });
      const tr = el('tr', { zn: 'run-row' }, el('td', { cls: 'zn-pick' }, pick));
      tr.dataset.run = row.name;
      for (const column of columns) {
        const text = cellText(row, column);
        const td = column.id === 'name'
          ? el('td', { cls: 'zn-cell zn-run-link', title: row.name, text, onClick: () => this.actions.open(row.name) })
          : el('td', { cls: column.id === 'state' ? `zn-cell ${stateClass(row.state)}` : 'zn-cell', title: text, text });
        td.dataset.column = column.id;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    table.appendChild(body);
    this.body.replaceChildren(page.rows.length ? table : el('div', { cls: 'zn-empty', text: rangeLabel(page) }));
    this.renderSelection();
  }

  private renderSelection(): void {
    const n = this.selected.size;
    this.selection.textContent = n ? `${n} selected` : 'select runs to compare or delete';
  }
}
