// Stops at once, before anything heavy loads, on a Node.js older than dualstore supports: the
// sources use Node 22 APIs, and the examples are TypeScript that only Node 22 runs directly.
// Plain JavaScript old Node versions can parse; imported first by the CLI and the npm scripts.
const MINIMUM_MAJOR = 22;

if (Number(process.versions.node.split(".")[0]) < MINIMUM_MAJOR) {
  console.error(`dualstore needs Node.js ${MINIMUM_MAJOR} or later (this is ${process.versions.node}).`);
  process.exit(1);
}
