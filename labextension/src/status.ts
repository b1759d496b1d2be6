/**
 * Outside the panels: a status bar item naming the active stack (click to switch), and a
 * watcher that raises one Lab notification when a run ends while its notebook is not in front.
 */
import { Widget } from '@lumino/widgets';

import { ZenmlApi } from './api';
import { el } from './dom';
import { endedRuns, INITIAL, ITableRow, shouldNotify } from './table';

const WATCH_MS = 3000;

export class StackStatus extends Widget {
  private readonly label = el('span', { cls: 'zn-status-stack', zn: 'status-stack', text: 'stack …' });

  constructor(onClick: (event: MouseEvent) => void) {
    super();
    this.addClass('zn-statusbar');
    this.node.title = 'zenml-notebook: the active stack (click to switch)';
    this.node.appendChild(this.label);
    this.node.addEventListener('click', onClick);
  }

  setStack(name: string | null): void {
    this.label.textContent = name ? `stack ${name}` : 'no zenml-notebook repository';
  }
}

export interface IRunEnded {
  name: string;
  state: string;
}

/**
 * Polls the change token every few seconds (whatever panel is open), reads the newest runs when
 * it moves, and reports runs that ended (see `endedRuns`) when `shouldNotify` says so.
 */
export class RunWatcher {
  private readonly seen = new Map<string, string>();
  private token: string | null = null;
  private first = true;
  private readonly since = Date.now();
  private timer: number | null = null;
  private cwd = '';
  private busy = false;
  private again = false;

  constructor(
    private readonly api: ZenmlApi,
    private readonly notebookInFront: (cwd: string) => boolean,
    private readonly onEnded: (run: IRunEnded) => void,
    private readonly onChange: () => void
  ) {}

  start(): void {
    if (this.timer === null) {
      this.timer = window.setInterval(() => void this.tick(), WATCH_MS);
      void this.tick();
    }
  }

  setCwd(cwd: string): void {
    if (cwd !== this.cwd) {
      this.cwd = cwd;
      this.seen.clear();
      this.token = null;
      this.first = true;
      void this.tick();
    }
  }

  async tick(): Promise<void> {
    // one look at a time (the interval and a folder change can both ask), and a later one when
    // a look was asked for during another: a run that ends between them is not lost
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        await this.look();
      } while (this.again);
    } finally {
      this.busy = false;
    }
  }

  private async look(): Promise<void> {
    const cwd = this.cwd;
    let token: string;
    try {
      token = (await this.api.getVersion(cwd)).token;
    } catch {
      return;
    }
    if (token === this.token) {
      return;
    }
    this.onChange();
    let rows: ITableRow[];
    try {
      rows = (await this.api.getTable(cwd, { ...INITIAL, limit: 20 })).rows;
    } catch {
      // no repository here, or the store was busy or failed (the sidebar says which): the token
      // is not taken, so the next look reads the runs again instead of missing an ending
      return;
    }
    if (cwd !== this.cwd) {
      return; // the folder changed while reading: that folder's first look starts over
    }
    this.token = token;
    const ended = endedRuns(this.seen, rows, this.since, this.first);
    this.first = false;
    for (const name of ended) {
      const row = rows.find(r => r.name === name);
      if (shouldNotify({ pageHidden: document.hidden, notebookInFront: this.notebookInFront(this.cwd), background: row?.background })) {
        this.onEnded({ name, state: row?.state ?? 'ended' });
      }
    }
  }

  dispose(): void {
    if (this.timer !== null) {
      window.clearInterval(this.timer);
      this.timer = null;
    }
  }
}
