// The run watcher's bookkeeping: a look whose table read fails does not use up the change token,
// and looks asked for while one is under way are run after it, never side by side.
import { ZenmlApi } from '../src/api';
import { IRunEnded, RunWatcher } from '../src/status';

type Row = { name: string; state: string; started: number; background?: boolean };

/** A server stand-in that answers from a script: the token and rows it holds now, and whether
 * the next table read fails (as a busy or failing store does). */
class Scripted {
  token = 't0';
  rows: Row[] = [];
  failNext = 0;
  inFlight = 0;
  maxInFlight = 0;
  async getVersion(): Promise<{ token: string }> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise(resolve => setTimeout(resolve, 5));
    this.inFlight--;
    return { token: this.token };
  }
  async getTable(): Promise<{ rows: Row[] }> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('database is locked');
    }
    return { rows: this.rows.map(r => ({ ...r })) };
  }
}

describe('the run watcher', () => {
  it('reads the runs again after a failed read instead of missing a run that ended', async () => {
    const server = new Scripted();
    const ended: IRunEnded[] = [];
    const watcher = new RunWatcher(server as unknown as ZenmlApi, () => false, run => ended.push(run), () => undefined);
    await watcher.tick(); // the first look: nothing ended while nobody watched
    const now = Date.now() / 1000 + 1;
    server.token = 't1';
    server.rows = [{ name: 'r1', state: 'running', started: now }];
    await watcher.tick();
    server.token = 't2';
    server.rows = [{ name: 'r1', state: 'complete', started: now }];
    server.failNext = 1;
    await watcher.tick(); // the store was busy: nothing reported yet
    expect(ended).toEqual([]);
    await watcher.tick(); // same token, but the runs are read again
    expect(ended).toEqual([{ name: 'r1', state: 'complete' }]);
    await watcher.tick();
    expect(ended.length).toBe(1);
  });

  it('runs one look at a time', async () => {
    const server = new Scripted();
    const watcher = new RunWatcher(server as unknown as ZenmlApi, () => false, () => undefined, () => undefined);
    await Promise.all([watcher.tick(), watcher.tick(), watcher.tick()]);
    expect(server.maxInFlight).toBe(1);
  });
});
