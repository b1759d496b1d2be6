// Used by jest to transform the ES modules some JupyterLab dependencies ship.
module.exports = require('@jupyterlab/testing/lib/babel-config');
