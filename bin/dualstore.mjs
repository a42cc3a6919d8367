#!/usr/bin/env node
// The `dualstore` command: checks the Node.js version before loading the CLI bundle.
import "./require-node.mjs";

await import("../dist/cli.js");
