// Resizable ArrayBuffers (ES2024) run in Node 20 (V8 11.3), but TypeScript declares them only in
// its ES2024 lib, past the ES2023 this project targets. The subset sandcodec uses:
interface ArrayBufferConstructor {
  new (byteLength: number, options?: { maxByteLength?: number }): ArrayBuffer;
}

interface ArrayBuffer {
  readonly maxByteLength: number;
  readonly resizable: boolean;
  resize(newByteLength: number): void;
}
