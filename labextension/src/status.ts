/**
 * Outside the panels: a status bar item naming the active stack (click to switch), and a
 * watcher that raises one Lab notification when a run ends while its notebook is not in front.
 */
import { Widget } from '@lumino/widgets';

import { ZenmlApi } from './api';
import { el } from './dom';
import { endedRuns, INITIAL, shouldNotify } from './table';

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
    let token: string;
    try {
      token = (await this.api.getVersion(this.cwd)).token;
    } catch {
      return;
    }
    if (token === this.token) {
      return;
    }
    this.token = token;
    this.onChange();
    try {
      const page = await this.api.getTable(this.cwd, { ...INITIAL, limit: 20 });
      const ended = endedRuns(this.seen, page.rows, this.since, this.first);
      this.first = false;
      for (const name of ended) {
        const row = page.rows.find(r => r.name === name);
        if (shouldNotify({ pageHidden: document.hidden, notebookInFront: this.notebookInFront(this.cwd), background: row?.background })) {
          this.onEnded({ name, state: row?.state ?? 'ended' });
        }
      }
    } catch {
      // no repository here, or the store failed: the sidebar says which
    }
  }

  dispose(): void {
    if (this.timer !== null) {
      window.clearInterval(this.timer);
      this.timer = null;
    }
  }
}
