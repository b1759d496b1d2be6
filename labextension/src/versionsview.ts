/**
 * Named artifacts and their versions: run, step, size, time, tags; preview a version, tag and
 * untag it, and insert code that loads it.
 */
import { IVersion, ZenmlApi } from './api';
import { el, previewNodes } from './dom';
import { formatWhen, humanSize } from './model';

export interface IVersionsActions {
  open(run: string): void;
  insertCode(code: string): boolean;
  /** asks for a tag name; null when cancelled */
  askTag(name: string, version: number): Promise<string | null>;
  error(where: HTMLElement, error: unknown): void;
  status(text: string): void;
}

/** Python that loads one version of a named artifact. */
export function versionCode(name: string, version: number): string {
  return `from zenml_notebook import Client\n\nClient().artifact(${JSON.stringify(name)}, version=${version})`;
}

export class VersionsView {
  readonly node = el('div', { cls: 'zn-view zn-versions-view', zn: 'versions-view' });
  private readonly names = el('div', { cls: 'zn-names', zn: 'artifact-names' });
  private readonly versions = el('div', { cls: 'zn-table-box', zn: 'versions-box' });
  private readonly preview = el('div', { cls: 'zn-preview', zn: 'version-preview' });
  private current = '';

  constructor(
    private readonly api: ZenmlApi,
    private readonly cwd: () => string,
    private readonly actions: IVersionsActions
  ) {
    this.node.append(el('div', { cls: 'zn-versions-lower' }, this.names, this.versions));
  }

  async update(): Promise<void> {
    try {
      const { names } = await this.api.getNames(this.cwd());
      this.names.replaceChildren(el('div', { cls: 'zn-label', text: 'named artifacts' }),
        ...(names.length ? names.map(n => el('button', { cls: `zn-link zn-name-item${n.name === this.current ? ' zn-selected' : ''}`, zn: 'artifact-name',
          text: `${n.name} · v${n.latest}`, title: `${n.name}: latest version ${n.latest}, ${formatWhen(n.created)}`, onClick: () => void this.showName(n.name) }))
          : [el('div', { cls: 'zn-meta', text: 'none yet: name a step\'s output with @step(version=True) or `artifacts tag`' })]));
      if (!this.current && names.length) {
        await this.showName(names[0].name);
      } else if (this.current) {
        await this.showName(this.current);
      }
    } catch (error) {
      this.actions.error(this.names, error);
    }
  }

  async showName(name: string): Promise<void> {
    this.current = name;
    this.names.querySelectorAll<HTMLElement>('[data-zn="artifact-name"]').forEach(b => b.classList.toggle('zn-selected', b.textContent?.startsWith(`${name} ·`) ?? false));
    try {
      const page = await this.api.getVersions(this.cwd(), name);
      const table = el('table', { cls: 'zn-grid', zn: 'versions-table' });
      table.appendChild(el('thead', {}, el('tr', {}, ...['version', 'run', 'step', 'size', 'created', 'tags', ''].map(h => el('th', { text: h })))));
      const body = el('tbody');
      for (const v of page.versions) {
        body.appendChild(this.row(v));
      }
      table.appendChild(body);
      this.versions.replaceChildren(el('h3', { cls: 'zn-subtitle', text: `${name}: ${page.total} version(s)` }), table, this.preview);
    } catch (error) {
      this.actions.error(this.versions, error);
    }
  }

  private row(v: IVersion): HTMLElement {
    const tags = el('td', { cls: 'zn-cell', zn: 'version-tags' });
    for (const tag of v.tags) {
      tags.appendChild(el('span', { cls: 'zn-tag', text: tag },
        el('button', { cls: 'zn-link', zn: 'untag', text: '×', title: `remove tag ${tag}`, onClick: () => void this.untag(v.name, tag) })));
    }
    const tr = el('tr', { zn: 'version-row', cls: v.state !== 'live' ? 'zn-gone' : '' },
      el('td', { cls: 'zn-cell', text: `v${v.version}${v.state !== 'live' ? ' (deleted)' : ''}` }),
      el('td', { cls: 'zn-cell' }, el('button', { cls: 'zn-link', text: v.run, title: `open run ${v.run}`, onClick: () => this.actions.open(v.run) })),
      el('td', { cls: 'zn-cell', text: v.step }),
      el('td', { cls: 'zn-cell', text: v.size >= 0 ? humanSize(v.size) : '' }),
      el('td', { cls: 'zn-cell', text: formatWhen(v.created) }),
      tags,
      el('td', { cls: 'zn-cell' },
        ...(v.path ? [el('button', { cls: 'zn-link', zn: 'version-preview-link', text: 'preview', onClick: () => void this.showPreview(v) })] : []),
        el('button', { cls: 'zn-link', zn: 'tag', text: 'tag…', onClick: () => void this.tag(v.name, v.version) }),
        el('button', { cls: 'zn-link', zn: 'version-code', text: 'insert code', title: versionCode(v.name, v.version),
          onClick: () => this.actions.status(this.actions.insertCode(versionCode(v.name, v.version)) ? 'code inserted into the notebook' : 'open a notebook to insert code into') })));
    tr.dataset.version = String(v.version);
    return tr;
  }

  private async showPreview(v: IVersion): Promise<void> {
    try {
      const p = await this.api.previewArtifact(this.cwd(), v.path ?? '');
      this.preview.replaceChildren(el('div', { cls: 'zn-label', text: `${v.name} v${v.version}` }), ...previewNodes(p, el('div')));
    } catch (error) {
      this.actions.error(this.preview, error);
    }
  }

  private async tag(name: string, version: number): Promise<void> {
    const tag = await this.actions.askTag(name, version);
    if (!tag) {
      return;
    }
    try {
      const done = await this.api.tag(this.cwd(), name, version, tag);
      this.actions.status(done.moved_from ? `tag ${tag} moved from v${done.moved_from} to v${version}` : `v${version} tagged ${tag}`);
      await this.showName(name);
    } catch (error) {
      this.actions.error(this.versions, error);
    }
  }

  private async untag(name: string, tag: string): Promise<void> {
    try {
      await this.api.untag(this.cwd(), name, tag);
      this.actions.status(`tag ${tag} removed`);
      await this.showName(name);
    } catch (error) {
      this.actions.error(this.versions, error);
    }
  }
}
