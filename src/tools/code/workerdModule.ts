import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSWASMModule } from "quickjs-emscripten-core";
import releaseSync from "@jitl/quickjs-wasmfile-release-sync";
// Workers refuse to compile wasm from bytes: the module is imported precompiled (a CompiledWasm module).
import wasmModule from "@jitl/quickjs-wasmfile-release-sync/wasm";

/** The QuickJS module inside a Worker, made once per isolate. */
let loaded: Promise<QuickJSWASMModule> | null = null;
export function loadWorkerdQuickJs(): Promise<QuickJSWASMModule> {
  loaded ??= newQuickJSWASMModuleFromVariant(newVariant(releaseSync, { wasmModule }));
  return loaded;
}
