/**
 * A run's DAG drawn as SVG (createElementNS + textContent only): nodes coloured by state, edges
 * routed by dagre with their labels in boxes clear of every node. In the explorer it pans (drag),
 * zooms (wheel, +/-) and fits; in the sidebar it is drawn at its natural size.
 */
import { firstView, fitView, IBox, IDagLayout, layoutRun, zoomView } from './dag';
import { el, svgEl } from './dom';
import { IRun } from './model';

export interface IDagView {
  node: HTMLElement;
  /** mark a step as selected (as if clicked, without calling onOpen) */
  select(step: string): void;
  /** show the whole graph (explorer only) */
  fit(): void;
}

function viewBox(v: IBox): string {
  return `${v.x.toFixed(1)} ${v.y.toFixed(1)} ${v.width.toFixed(1)} ${v.height.toFixed(1)}`;
}

export function drawDag(run: IRun, onOpen: (step: string) => void, options: { zoomable?: boolean; height?: number } = {}): IDagView {
  const layout: IDagLayout = layoutRun(run, options.zoomable ? 220 : 160);
  const box = el('div', { cls: options.zoomable ? 'zn-dag zn-dag-zoomable' : 'zn-dag', zn: 'dag' });
  const svg = svgEl('svg', { role: 'img', 'aria-label': `steps of run ${run.name}` }) as SVGSVGElement;
  const content = svgEl('g', {});
  svg.appendChild(content);
  for (const edge of layout.edges) {
    const d = edge.points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    const path = svgEl('path', { d, class: 'zn-edge' });
    const hover = svgEl('title', {});
    hover.textContent = `${edge.from} → ${edge.to}: ${edge.label}`;
    path.appendChild(hover);
    content.appendChild(path);
    const b = edge.labelBox;
    if (!b.width) {
      continue;  // a big graph: the artifact's name is on the edge's hover title only
    }
    const label = svgEl('text', { x: (b.x + b.width / 2).toFixed(1), y: (b.y + b.height - 3).toFixed(1), class: 'zn-edge-label', 'text-anchor': 'middle' });
    label.textContent = edge.label;
    content.appendChild(label);
  }
  const groups = new Map<string, SVGElement>();
  const select = (name: string) => {
    groups.forEach((g, n) => g.classList.toggle('zn-selected', n === name));
  };
  for (const node of layout.nodes) {
    const group = svgEl('g', { class: `zn-node ${node.cls}`, tabindex: '0', role: 'button', 'data-step': node.name });
    const title = svgEl('title', {});
    title.textContent = `${node.name}: ${node.state}`;
    const label = svgEl('text', { x: String(node.x + 7), y: String(node.y + 16) });
    const fits = Math.floor((node.width - 14) / 7);
    label.textContent = node.name.length > fits ? node.name.slice(0, Math.max(fits - 1, 1)) + '…' : node.name;
    group.append(title, svgEl('rect', { x: String(node.x), y: String(node.y), width: String(node.width), height: String(node.height), rx: '4' }), label);
    const open = () => {
      select(node.name);
      onOpen(node.name);
    };
    group.addEventListener('click', open);
    group.addEventListener('keydown', (event: KeyboardEvent) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        open();
      }
    });
    groups.set(node.name, group);
    content.appendChild(group);
  }
  box.appendChild(svg);
  if (!options.zoomable) {
    svg.setAttribute('width', String(layout.width));
    svg.setAttribute('height', String(layout.height));
    svg.setAttribute('viewBox', `0 0 ${layout.width} ${layout.height}`);
    return { node: box, select, fit: () => undefined };
  }
  // explorer: the SVG fills its box; the viewBox is the camera
  const height = options.height ?? Math.round(Math.min(480, Math.max(180, layout.height * 0.8 + 60)));
  svg.setAttribute('width', '100%');
  svg.setAttribute('height', String(height));
  let view: IBox = { x: 0, y: 0, width: layout.width, height: layout.height };
  const apply = () => {
    svg.setAttribute('viewBox', viewBox(view));
    box.dataset.scale = (svg.clientWidth / view.width || 0).toFixed(3);
  };
  const fit = () => {
    view = fitView(layout, Math.max(svg.clientWidth, 100), height);
    apply();
  };
  const toGraph = (clientX: number, clientY: number) => {
    const r = svg.getBoundingClientRect();
    return { x: view.x + ((clientX - r.left) / Math.max(r.width, 1)) * view.width, y: view.y + ((clientY - r.top) / Math.max(r.height, 1)) * view.height };
  };
  const zoom = (factor: number, at?: { x: number; y: number }) => {
    const p = at ?? { x: view.x + view.width / 2, y: view.y + view.height / 2 };
    view = zoomView(view, factor, p.x, p.y);
    apply();
  };
  svg.addEventListener('wheel', (event: WheelEvent) => {
    event.preventDefault();
    zoom(event.deltaY < 0 ? 1.2 : 1 / 1.2, toGraph(event.clientX, event.clientY));
  }, { passive: false });
  let drag: { x: number; y: number; view: IBox } | null = null;
  svg.addEventListener('pointerdown', (event: PointerEvent) => {
    if ((event.target as Element).closest('.zn-node')) {
      return;  // a click on a step opens it
    }
    drag = { x: event.clientX, y: event.clientY, view };
    svg.setPointerCapture?.(event.pointerId);
  });
  svg.addEventListener('pointermove', (event: PointerEvent) => {
    if (!drag) {
      return;
    }
    const r = svg.getBoundingClientRect();
    const dx = ((event.clientX - drag.x) / Math.max(r.width, 1)) * drag.view.width;
    const dy = ((event.clientY - drag.y) / Math.max(r.height, 1)) * drag.view.height;
    view = { ...drag.view, x: drag.view.x - dx, y: drag.view.y - dy };
    apply();
  });
  const end = () => {
    drag = null;
  };
  svg.addEventListener('pointerup', end);
  svg.addEventListener('pointercancel', end);
  const tools = el('div', { cls: 'zn-dag-tools' },
    el('button', { cls: 'zn-link', zn: 'zoom-in', text: '+', title: 'zoom in', onClick: () => zoom(1.25) }),
    el('button', { cls: 'zn-link', zn: 'zoom-out', text: '−', title: 'zoom out', onClick: () => zoom(0.8) }),
    el('button', { cls: 'zn-link', zn: 'zoom-fit', text: 'fit', title: 'show the whole graph', onClick: fit }),
    el('span', { cls: 'zn-meta', text: `${layout.nodes.length} steps · drag to pan, wheel to zoom` }));
  box.prepend(tools);
  requestAnimationFrame(() => {
    view = firstView(layout, Math.max(svg.clientWidth, 100), height);
    apply();
  });
  return { node: box, select, fit };
}
