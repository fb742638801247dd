// SPDX-License-Identifier: MIT
// Node packages come from tests/interop/node_modules (`npm ci` there), shared with the interop tests.
'use strict';

const path = require('node:path');

const INTEROP = path.join(__dirname, '..', '..', 'interop');

/** require() of an installed package of tests/interop. */
function npmRequire(name) {
  return require(require.resolve(name, { paths: [INTEROP] }));
}

module.exports = { npmRequire, INTEROP };
