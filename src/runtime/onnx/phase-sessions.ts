/**
 * The ONNX sessions of one phase of a generate call: the encoder and cross-attention key/value graphs,
 * needed while a call's articles are encoded, or the decoder step, needed while it decodes. Opened on
 * first use and kept; `close()` releases them, and the next `open()` loads them again.
 *
 * The compiled summariser closes each phase's sessions before the other phase runs (see
 * `SessionResidency`): neither phase then holds the other's weights beside its own working memory.
 */

import { OnnxSession, type OrtSessionOptions } from "./session.js";

export interface SessionResidency {
  /**
   * Keep every session loaded for the model's lifetime. By default a call's encoder is released once its
   * articles are encoded and the decoder step before the next call encodes; reloading them from the
   * page cache costs ~0.4 s (encoder) and ~0.9 s (fp32 step) a call for distilbart-cnn-6-6, and the
   * peak falls by the other phase's weights (365 MB encoder, 535 MB step in fp32).
   */
  readonly resident?: boolean;
}

export class PhaseSessions {
  private sessions: Promise<OnnxSession[]> | null = null;

  constructor(
    private readonly paths: readonly string[],
    private readonly options: OrtSessionOptions,
  ) {}

  get loaded(): boolean {
    return this.sessions !== null;
  }

  /** The phase's sessions, in the order of `paths`, loaded now if they are not. */
  open(): Promise<OnnxSession[]> {
    if (this.sessions) return this.sessions;
    const opening = (async () => {
      const opened: OnnxSession[] = [];
      try {
        for (const path of this.paths) opened.push(await OnnxSession.create(path, this.options));
        return opened;
      } catch (error) {
        await Promise.all(opened.map((session) => session.release()));
        throw error;
      }
    })();
    this.sessions = opening;
    // A failed load is not remembered: the next call tries again.
    opening.catch(() => {
      if (this.sessions === opening) this.sessions = null;
    });
    return opening;
  }

  async close(): Promise<void> {
    const sessions = this.sessions;
    this.sessions = null;
    const opened = await sessions?.catch(() => null);
    if (opened) await Promise.all(opened.map((session) => session.release()));
  }
}
