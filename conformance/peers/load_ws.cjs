// Loads the `ws` package for the peer scripts. test.sh installs it under
// target/peers/node (outside the source tree); WS_MODULE overrides the path.
const path = require('path');

const repoRoot = path.resolve(__dirname, '..', '..');
module.exports = require(
  process.env.WS_MODULE || path.join(repoRoot, 'target/peers/node/node_modules/ws'),
);
