#!/usr/bin/env node
// The `tfgrpo` command: the CLI compiled to plain JavaScript (`npm run build:cli`, run by `prepare`),
// so it needs only the package's runtime dependencies.
import "../dist/tfgrpo.mjs";
