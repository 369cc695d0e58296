/**
 * The encoder and cross-attention key/value graphs of a compiled summariser, which a generate call needs
 * only at its start. Kept resident by default; with `perCall`, they are opened for each call's encoding
 * and released before its decoding, so their weights (365 MB in fp32 for distilbart-cnn-6-6) do not sit
 * beside the decoder's state for the hundreds of steps that follow. Reopening costs a few hundred
 * milliseconds a call (the weights come from the page cache).
 */

import { OnnxSession, type OrtSessionOptions } from "./session.js";

export interface EncoderResidency {
  /** Open the encoder for each generate call's encoding and release it before decoding (default false). */
  readonly encoderPerCall?: boolean;
}

export class EncoderSessions {
  private sessions: Promise<[OnnxSession, OnnxSession]> | null = null;

  constructor(
    private readonly encoderPath: string,
    private readonly crossKvPath: string,
    private readonly options: OrtSessionOptions,
    readonly perCall: boolean,
  ) {}

  get loaded(): boolean {
    return this.sessions !== null;
  }

  /** The encoder and cross-kv sessions, opened now if they are not. */
  open(): Promise<[OnnxSession, OnnxSession]> {
    this.sessions ??= (async () => {
      const encoder = await OnnxSession.create(this.encoderPath, this.options);
      try {
        return [encoder, await OnnxSession.create(this.crossKvPath, this.options)] as [OnnxSession, OnnxSession];
      } catch (error) {
        await encoder.release();
        throw error;
      }
    })();
    // A failed open is not remembered: the next call tries again.
    this.sessions.catch(() => (this.sessions = null));
    return this.sessions;
  }

  /** A call's articles are encoded: release the sessions when they live per call. */
  async encoded(): Promise<void> {
    if (this.perCall) await this.close();
  }

  async close(): Promise<void> {
    const sessions = this.sessions;
    this.sessions = null;
    if (!sessions) return;
    const opened = await sessions.catch(() => null);
    if (opened) await Promise.all(opened.map((session) => session.release()));
  }
}
