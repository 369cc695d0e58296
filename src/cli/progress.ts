import cliProgress from "cli-progress";

export interface ProgressSource {
  /** Bytes of input consumed so far and in all (undefined for pipes), for the ETA. */
  bytesRead(): number;
  totalBytes(): number | undefined;
}

export interface ProgressReporter {
  itemDone(failed: boolean): void;
  /** Prints a line without tearing the bar; shown even when quiet. */
  log(message: string): void;
  stop(): void;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/**
 * Progress on stderr. The item total is unknown while streaming, so the bar tracks input bytes (the
 * ETA extrapolates from them) and shows item count and rate beside it. Without a TTY it prints a plain
 * line every few seconds, which reads well in CI logs and `nohup` files.
 */
export function createProgressReporter(
  source: ProgressSource,
  options: { quiet: boolean; stream?: NodeJS.WriteStream; intervalMs?: number },
): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const started = performance.now();
  let done = 0;
  let failed = 0;
  const rate = () => done / Math.max(1e-3, (performance.now() - started) / 1000);
  const eta = () => {
    const total = source.totalBytes();
    const read = source.bytesRead();
    if (!total || read <= 0) return "?";
    const elapsed = (performance.now() - started) / 1000;
    return formatDuration((elapsed * (total - read)) / read);
  };

  if (options.quiet) {
    // Quiet drops the progress display, not warnings: a fallback the user did not ask for must show.
    return { itemDone: () => undefined, log: (message) => void stream.write(`${message}\n`), stop: () => undefined };
  }

  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: "{bar} {percentage}% | {items} items ({failed} with errors) | {rate} items/s | ETA {etaText}",
        hideCursor: true,
        clearOnComplete: false,
        barsize: 24,
        fps: 5,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    const total = source.totalBytes() ?? 0;
    bar.start(Math.max(1, total), 0, { items: 0, failed: 0, rate: "0.0", etaText: "?" });
    return {
      itemDone(isFailure) {
        done++;
        if (isFailure) failed++;
        bar.update(total ? source.bytesRead() : 0, { items: done, failed, rate: rate().toFixed(1), etaText: eta() });
      },
      log(message) {
        bar.stop();
        stream.write(`${message}\n`);
        bar.start(Math.max(1, total), total ? source.bytesRead() : 0, {
          items: done,
          failed,
          rate: rate().toFixed(1),
          etaText: eta(),
        });
      },
      stop() {
        if (total) bar.update(total);
        bar.stop();
      },
    };
  }

  const intervalMs = options.intervalMs ?? 5000;
  let lastLine = performance.now();
  const line = () => {
    const total = source.totalBytes();
    const percent = total ? ` (${Math.floor((100 * source.bytesRead()) / total)}% of input)` : "";
    stream.write(
      `news-moe: ${done} items done${percent}, ${failed} with errors, ${rate().toFixed(1)} items/s, ETA ${eta()}\n`,
    );
  };
  return {
    itemDone(isFailure) {
      done++;
      if (isFailure) failed++;
      if (performance.now() - lastLine >= intervalMs) {
        lastLine = performance.now();
        line();
      }
    },
    log(message) {
      stream.write(`${message}\n`);
    },
    stop() {
      if (done > 0) line();
    },
  };
}
