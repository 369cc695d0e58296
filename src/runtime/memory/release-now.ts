/**
 * Gives a large buffer's memory back at once instead of at the next garbage collection.
 *
 * A Float32Array's backing store is freed only when V8 collects it, and V8 collects on its own schedule:
 * a running decoder batch that replaces a 500 MB cross-attention buffer, or drops an ONNX Runtime output
 * it has copied out of, leaves the old pages resident for as long as the collector waits. The process's
 * peak then depends on that timing (the whole-run peak moved by hundreds of MB from run to run).
 *
 * Transferring the buffer detaches it from every view and hands its backing store to the message; closing
 * the channel drops the message, and with it the memory, without a collection. (ES2024's
 * `ArrayBuffer.prototype.transfer(0)` does the same; Node 20's V8 does not have it.)
 *
 * Only for buffers nothing reads again: every view of the buffer becomes empty.
 */
export function releaseNow(view: ArrayBufferView | null | undefined): void {
  if (!view || view.byteLength === 0) return;
  const buffer = view.buffer;
  // A SharedArrayBuffer cannot be transferred, and a resizable or foreign buffer may refuse: GC frees those.
  if (!(buffer instanceof ArrayBuffer)) return;
  const channel = new MessageChannel();
  try {
    channel.port1.postMessage(null, [buffer]);
  } catch {
    // Not transferable (e.g. owned by a native module): left to the collector.
  } finally {
    channel.port1.close();
    channel.port2.close();
  }
}
