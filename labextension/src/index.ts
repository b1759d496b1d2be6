/**
 * The zenml-notebook JupyterLab plugin: a left-area panel, a full-page explorer (command
 * `zenml-notebook:open-runs`, also in the palette and the launcher), a status bar item with the
 * active stack, and a notification when a run ends while its notebook is not in front.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, InputDialog, Notification, showDialog } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { IStatusBar } from '@jupyterlab/statusbar';
import { LabIcon } from '@jupyterlab/ui-components';
import { Menu, Widget } from '@lumino/widgets';

import { IDeletion, ZenmlApi } from './api';
import { el } from './dom';
import { ZenMLExplorer } from './explorer';
import { dirname, humanSize } from './model';
import { ZenMLSidebar } from './sidebar';
import { RunWatcher, StackStatus } from './status';

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161"><path d="M3 4h18v4H3zM3 10h18v4H3zM3 16h18v4H3z"/></g></svg>`;
const VEGA_LITE = 'application/vnd.vegalite.v5+json';
export const OPEN_RUNS = 'zenml-notebook:open-runs';
export const SWITCH_STACK = 'zenml-notebook:switch-stack';

export const zenmlIcon = new LabIcon({ name: 'zenml-notebook:stack', svgstr: ICON });

/** The dialog body of a deletion: what goes (the dry run), as text. */
function deletionBody(plan: IDeletion): Widget {
  const body = new Widget();
  body.node.dataset.zn = 'delete-dialog';
  const lines = [
    `${plan.runs.length} run(s): ${plan.runs.slice(0, 10).join(', ')}${plan.runs.length > 10 ? ` and ${plan.runs.length - 10} more` : ''}`,
    `${plan.artifact_count} artifact(s), ${humanSize(plan.bytes)}`,
    ...(plan.shared ? [`kept: ${plan.shared} artifact(s) a remaining run still uses`] : []),
    ...(plan.tagged.length ? [`kept (tagged): ${plan.tagged.join(', ')}`] : [])
  ];
  body.node.append(...lines.map(text => el('div', { cls: 'zn-detail', text })));
  const list = el('pre', { cls: 'zn-text zn-dry-run', zn: 'dry-run' });
  list.textContent = plan.artifacts.map(a => a.uri).join('\n') + (plan.artifact_count > plan.artifacts.length ? `\n… and ${plan.artifact_count - plan.artifacts.length} more` : '');
  if (plan.artifacts.length) {
    body.node.appendChild(list);
  }
  return body;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'zenml-notebook-labextension:sidebar',
  description: 'The active stack, one-click switching, the artifact store, runs, and a full-page run explorer.',
  autoStart: true,
  optional: [ICommandPalette, ILauncher, IRenderMimeRegistry, IStatusBar],
  activate: (app: JupyterFrontEnd, palette: ICommandPalette | null, launcher: ILauncher | null, rendermime: IRenderMimeRegistry | null,
    statusBar: IStatusBar | null) => {
    const api = new ZenmlApi();
    let cwd = '';
    // "insert code to load it": a new cell below the active one of the notebook in focus
    let lastNotebook: any = null;
    const insertCode = (code: string): boolean => {
      const current: any = (app.shell.currentWidget as any)?.content;
      const notebook: any = current && 'activeCell' in current ? current : lastNotebook && !lastNotebook.isDisposed ? lastNotebook : null;
      if (!notebook || !app.commands.hasCommand('notebook:insert-cell-below')) {
        return false;
      }
      if (notebook !== current) {  // from the explorer tab: into the notebook used last
        const panel = notebook.parent;
        if (panel?.id) {
          app.shell.activateById(panel.id);
        }
      }
      void app.commands.execute('notebook:insert-cell-below').then(() => notebook.activeCell?.model.sharedModel.setSource(code));
      return true;
    };
    let explorer: ZenMLExplorer | null = null;
    const renderChart = async (spec: Record<string, unknown>, into: HTMLElement): Promise<boolean> => {
      if (!rendermime || !rendermime.mimeTypes.includes(VEGA_LITE)) {
        return false;
      }
      const renderer = rendermime.createRenderer(VEGA_LITE);
      const model = new MimeModel({ data: { [VEGA_LITE]: spec as any }, metadata: { [VEGA_LITE]: { embed_options: { renderer: 'svg', actions: false } } }, trusted: true });
      Widget.attach(renderer, into);
      await renderer.renderModel(model);
      return true;
    };
    const openExplorer = async (run?: string) => {
      if (!explorer || explorer.isDisposed) {
        explorer = new ZenMLExplorer(cwd, {
          insertCode,
          renderChart,
          confirmDelete: async plan => {
            const result = await showDialog({
              title: `Delete ${plan.runs.length} run(s)?`,
              body: deletionBody(plan),
              buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
            });
            return result.button.accept;
          },
          askTag: async (name, version) => {
            const result = await InputDialog.getText({ title: `Tag ${name} v${version}`, placeholder: 'production', label: 'tag (a word, e.g. production)' });
            return result.button.accept && result.value ? result.value.trim() : null;
          }
        }, api);
        explorer.title.icon = zenmlIcon;
        app.shell.add(explorer, 'main');
      }
      app.shell.activateById(explorer.id);
      await explorer.showTab(run ? 'run' : 'runs', run);
    };
    app.commands.addCommand(OPEN_RUNS, {
      label: args => (args.run ? `Open Run ${String(args.run)}` : 'Open Runs Explorer'),
      caption: 'zenml-notebook: the runs table, run pages, comparisons and artifact versions',
      icon: args => (args.isLauncher ? zenmlIcon : undefined),
      execute: args => openExplorer(typeof args.run === 'string' && args.run ? args.run : undefined)
    });
    palette?.addItem({ command: OPEN_RUNS, category: 'zenml-notebook' });
    launcher?.add({ command: OPEN_RUNS, category: 'Other', rank: 1 });

    const sidebar = new ZenMLSidebar(api, insertCode, run => void app.commands.execute(OPEN_RUNS, run ? { run } : {}));
    sidebar.title.icon = zenmlIcon;
    app.shell.add(sidebar, 'left', { rank: 850 });

    // the status bar: the active stack; a click lists the stacks to switch to
    const status = new StackStatus(event => {
      void api.getStacks(cwd).then(found => {
        const menu = new Menu({ commands: app.commands });
        menu.addClass('zn-stack-menu');
        for (const stack of found.stacks) {
          menu.addItem({ command: SWITCH_STACK, args: { name: stack.name } });
        }
        menu.open(event.clientX, event.clientY - 8 - 24 * Math.max(found.stacks.length, 1));
      });
    });
    const showStack = () => void api.getStacks(cwd).then(s => status.setStack(s.repository ? s.active : null), () => status.setStack(null));
    app.commands.addCommand(SWITCH_STACK, {
      label: args => `Switch to stack ${String(args.name ?? '')}`,
      isToggled: args => status.node.textContent === `stack ${String(args.name ?? '')}`,
      execute: async args => {
        await sidebar.switchTo(String(args.name ?? ''));
        showStack();
      }
    });
    statusBar?.registerStatusItem('zenml-notebook:stack', { item: status, align: 'left', rank: 4 });

    // a run that ends while its notebook is not in front: one notification, with a link to its page
    const notebookInFront = (folder: string): boolean => {
      const path: string | undefined = (app.shell.currentWidget as any)?.context?.path;
      return typeof path === 'string' && path.endsWith('.ipynb') && (dirname(path) + '/').startsWith(folder ? folder + '/' : '');
    };
    const watcher = new RunWatcher(api, notebookInFront, ended => {
      const message = `Run ${ended.name} ${ended.state === 'complete' ? 'finished' : ended.state}`;
      const options = { autoClose: 8000, actions: [{ label: 'Open run', callback: () => void app.commands.execute(OPEN_RUNS, { run: ended.name }) }] };
      if (ended.state === 'complete') {
        Notification.success(message, options);
      } else {
        Notification.error(message, options);
      }
    }, showStack);

    // The folder of the document in focus, through the shell every Jupyter front end has: JupyterLab's
    // and Notebook 7's (which has no ILabShell) both say when their current widget changes.
    const follow = () => {
      const widget: any = app.shell.currentWidget;
      const path: string | undefined = widget?.context?.path;
      if (widget?.content && 'activeCell' in widget.content) {
        lastNotebook = widget.content;
      }
      if (typeof path === 'string') {
        cwd = dirname(path);
        sidebar.setCwd(cwd);
        explorer?.setCwd(cwd);
        watcher.setCwd(cwd);
      }
    };
    app.shell.currentChanged?.connect(follow);
    app.restored.then(() => {
      follow();
      watcher.start();
      showStack();
    }).catch(() => undefined);
    follow();
  }
};

export default plugin;
