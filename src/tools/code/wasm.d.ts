/** The QuickJS wasm, imported as a precompiled module (wrangler's CompiledWasm rule for `.wasm`). */
declare module "@jitl/quickjs-wasmfile-release-sync/wasm" {
  const wasmModule: WebAssembly.Module;
  export default wasmModule;
}
