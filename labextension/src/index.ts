/**
 * The zenml-notebook JupyterLab plugin: a left-area panel with its own icon.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { LabIcon } from '@jupyterlab/ui-components';

import { dirname } from './model';
import { ZenMLSidebar } from './sidebar';

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161"><path d="M3 4h18v4H3zM3 10h18v4H3zM3 16h18v4H3z"/></g></svg>`;

export const zenmlIcon = new LabIcon({ name: 'zenml-notebook:stack', svgstr: ICON });

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'zenml-notebook-labextension:sidebar',
  description: 'The active stack, one-click switching, the artifact store and recent runs.',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    // "insert code to load it": a new cell below the active one of the notebook in focus
    const insertCode = (code: string): boolean => {
      const notebook: any = (app.shell.currentWidget as any)?.content;
      if (!notebook || !('activeCell' in notebook) || !app.commands.hasCommand('notebook:insert-cell-below')) {
        return false;
      }
      void app.commands.execute('notebook:insert-cell-below').then(() => notebook.activeCell?.model.sharedModel.setSource(code));
      return true;
    };
    const sidebar = new ZenMLSidebar(undefined, insertCode);
    sidebar.title.icon = zenmlIcon;
    app.shell.add(sidebar, 'left', { rank: 850 });
    // The folder of the document in focus, through the shell every Jupyter front end has: JupyterLab's
    // and Notebook 7's (which has no ILabShell) both say when their current widget changes.
    const follow = () => {
      const widget: any = app.shell.currentWidget;
      const path: string | undefined = widget?.context?.path;
      if (typeof path === 'string') {
        sidebar.setCwd(dirname(path));
      }
    };
    app.shell.currentChanged?.connect(follow);
    app.restored.then(follow).catch(() => undefined);
    follow();
  }
};

export default plugin;
