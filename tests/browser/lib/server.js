// The browser suite starts and stops latchkey exactly as the compatibility suite does: one
// implementation, in tests/compat/lib/server.js (its `pg` dependency resolves from
// tests/compat/node_modules, which .ci/run installs first).
export { repoRoot, binPath, stripAnsi, runBinary, startServer } from '../../compat/lib/server.js';
