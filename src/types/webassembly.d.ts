// Node 20 has the WebAssembly JS API, but @types/node 20 does not declare it (TypeScript only
// ships it in the DOM libs). The subset sandcodec uses:
declare namespace WebAssembly {
  type ImportValue = ((...args: never[]) => unknown) | Global | Memory | Table | number;
  type ModuleImports = Record<string, ImportValue>;
  type Imports = Record<string, ModuleImports>;
  type ExportValue = ((...args: never[]) => unknown) | Global | Memory | Table;
  type Exports = Record<string, ExportValue>;
  type BufferSource = ArrayBufferView | ArrayBuffer;

  class Module {
    constructor(bytes: BufferSource);
    static exports(module: Module): { name: string; kind: string }[];
    static imports(module: Module): { module: string; name: string; kind: string }[];
  }
  class Instance {
    constructor(module: Module, importObject?: Imports);
    readonly exports: Exports;
  }
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  class Table {
    readonly length: number;
    get(index: number): unknown;
  }
  class Global {
    value: unknown;
  }
  interface WebAssemblyInstantiatedSource {
    instance: Instance;
    module: Module;
  }
  class CompileError extends Error {}
  class LinkError extends Error {}
  class RuntimeError extends Error {}
  function compile(bytes: BufferSource): Promise<Module>;
  function instantiate(bytes: BufferSource, importObject?: Imports): Promise<WebAssemblyInstantiatedSource>;
  function instantiate(module: Module, importObject?: Imports): Promise<Instance>;
  function validate(bytes: BufferSource): boolean;
}
