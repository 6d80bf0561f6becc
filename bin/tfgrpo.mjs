#!/usr/bin/env node
// The `tfgrpo` command: runs the TypeScript CLI through tsx's ESM loader (Node >= 20.6).
import { register } from "tsx/esm/api";

register();
await import("../scripts/cli/index.ts");
