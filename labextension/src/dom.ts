/**
 * DOM helpers every view uses: elements built with textContent only (never innerHTML), so
 * names, values and logs from a store always render as text.
 */
import { formatWhen, humanSize, imageSource, IPreview } from './model';

/** An SVG element with attributes (never innerHTML). */
export function svgEl(tag: string, attrs: Record<string, string>): SVGElement {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, v);
  }
  return node;
}
export type Attrs = { cls?: string; text?: string; title?: string; zn?: string; step?: string; onClick?: () => void };

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (attrs.cls) {
    node.className = attrs.cls;
  }
  if (attrs.text !== undefined) {
    node.textContent = attrs.text;
  }
  if (attrs.title) {
    node.title = attrs.title;
  }
  if (attrs.zn) {
    node.dataset.zn = attrs.zn;
  }
  if (attrs.step !== undefined) {
    node.dataset.step = attrs.step;
  }
  if (attrs.onClick) {
    const handler = attrs.onClick;
    node.addEventListener('click', event => {
      event.preventDefault();
      handler();
    });
    if (tag !== 'button') {  // reachable and usable from the keyboard like a button
      node.tabIndex = 0;
      node.setAttribute('role', 'button');
      (node as HTMLElement).addEventListener('keydown', (event: KeyboardEvent) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          handler();
        }
      });
    }
  }
  children.forEach(c => node.appendChild(c));
  return node;
}

/** A JSON value as a collapsible tree (details/summary, text only); deep levels start closed. */
export function jsonTree(value: unknown, depth: number, key = ''): Node {
  const label = key ? `${key}: ` : '';
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as [string, unknown]) : Object.entries(value as Record<string, unknown>);
    const details = el('details', {}, el('summary', { text: `${label}${Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}` }));
    details.open = depth < 1;
    entries.slice(0, 200).forEach(([k, v]) => details.appendChild(jsonTree(v, depth + 1, k)));
    if (entries.length > 200) {
      details.appendChild(el('div', { cls: 'zn-meta', text: `… ${entries.length - 200} more` }));
    }
    return details;
  }
  return el('div', { cls: 'zn-leaf', text: `${label}${JSON.stringify(value)}` });
}


/** A preview as nodes: its path, kind, size and time, the ``actions`` row, then the content
 * (a JSON tree, text, a table or an image of an allowed type). */
export function previewNodes(p: IPreview, actions: HTMLElement): Node[] {
const parts: Node[] = [el('div', { cls: 'zn-subtitle', text: p.path }),
  el('div', { cls: 'zn-detail', text: [p.kind, humanSize(p.size), formatWhen(p.modified), p.truncated ? 'truncated' : ''].filter(Boolean).join(' · ') }), actions];
  if (p.note) {
    parts.push(el('div', { cls: 'zn-detail', text: p.note }));
  }
  if (p.kind === 'json' && p.text && !p.truncated) {
    let value: unknown = undefined;
    try {
      value = JSON.parse(p.text);
    } catch {
      value = undefined;
    }
    parts.push(value !== null && typeof value === 'object'  // objects and lists as a tree, scalars as text
      ? el('div', { cls: 'zn-json', zn: 'json-tree' }, jsonTree(value, 0))
      : el('pre', { cls: 'zn-text', zn: 'preview-text', text: p.text }));
  } else if (p.text !== null && p.text !== undefined) {
    parts.push(el('pre', { cls: 'zn-text', zn: 'preview-text', text: p.text }));
  }
  if (p.rows && p.rows.length) {
    const table = el('table', { cls: 'zn-table', zn: 'preview-table' });
    p.rows.forEach(r => table.appendChild(el('tr', {}, ...r.map(c => el('td', { text: c })))));
    parts.push(table);
  }
  const src = imageSource(p);
  if (src) {
    const img = el('img', { cls: 'zn-image', zn: 'preview-image' });
    img.src = src;
    parts.push(img);
  }
  return parts;
}
