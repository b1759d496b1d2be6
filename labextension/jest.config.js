// Jest on the JupyterLab preset (ts-jest + jsdom with Node's fetch), as in the extension template.
const jestJupyterLab = require('@jupyterlab/testing/lib/jest-config');

module.exports = {
  ...jestJupyterLab(__dirname),
  reporters: ['default'],
  testRegex: '/test/.*\\.spec\\.ts$',
  testTimeout: 60000
};
