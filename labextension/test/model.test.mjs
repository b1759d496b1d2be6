// Unit tests of the sidebar's model and request helpers (node's test runner on the compiled lib).
import assert from 'node:assert/strict';
import test from 'node:test';

import { describeComponent, dirname, formatWhen, humanSize, imageSource, pageLabel, parentPath, query, stacksChanged } from '../lib/model.js';

test('humanSize matches the CLI', () => {
  assert.equal(humanSize(null), '');
  assert.equal(humanSize(17), '17 B');
  assert.equal(humanSize(2048), '2.0 KiB');
  assert.equal(humanSize(5 * 1024 * 1024), '5.0 MiB');
});

test('paths', () => {
  assert.equal(dirname('a/b/c.ipynb'), 'a/b');
  assert.equal(dirname('c.ipynb'), '');
  assert.equal(parentPath('run/step/'), 'run');
  assert.equal(parentPath(''), '');
});

test('query encodes and drops empty values', () => {
  assert.equal(query({ cwd: '', path: 'a b/../c', offset: 0, limit: 100 }), 'path=a%20b%2F..%2Fc&offset=0&limit=100');
  assert.equal(query({ x: null, y: undefined }), '');
});

test('stacksChanged', () => {
  const a = { repository: '/r', active: 'default', stacks: [] };
  assert.equal(stacksChanged(null, a), true);
  assert.equal(stacksChanged(a, { ...a }), false);
  assert.equal(stacksChanged(a, { ...a, active: 'other' }), true);
});

test('imageSource allows only raster images with clean base64', () => {
  const base = { path: 'p', kind: 'image', size: 1, modified: null, text: null, rows: [], truncated: false, note: '' };
  assert.equal(imageSource({ ...base, mime: 'image/png', data_base64: 'iVBORw0KGgo=' }), 'data:image/png;base64,iVBORw0KGgo=');
  assert.equal(imageSource({ ...base, mime: 'image/svg+xml', data_base64: 'PHN2Zz4=' }), null);
  assert.equal(imageSource({ ...base, mime: 'image/png', data_base64: "x' onerror='alert(1)" }), null);
  assert.equal(imageSource({ ...base, kind: 'text', mime: 'image/png', data_base64: 'AAAA' }), null);
});

test('labels', () => {
  assert.equal(describeComponent({ name: 'd', flavor: 'sqlite', config: { uri: '.zenml/metadata.db' } }), 'sqlite · uri=.zenml/metadata.db');
  assert.equal(describeComponent({ name: 'd', flavor: 'local', config: {} }), 'local');
  assert.equal(pageLabel({ store: 's', path: '', entries: new Array(100), total: 250, offset: 100, limit: 100 }), '101-200 of 250');
  assert.equal(pageLabel({ store: 's', path: '', entries: [], total: 0, offset: 0, limit: 100 }), 'empty');
  assert.ok(formatWhen(1700000000).startsWith('2023-11-'));
});
