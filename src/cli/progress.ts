import cliProgress from "cli-progress";

export interface ProgressSource {
  /** Bytes of input consumed so far and in all (undefined for pipes). */
  bytesRead(): number;
  totalBytes(): number | undefined;
  /** Items parsed so far (ahead of the analysis), and whether the input has been read to its end. */
  itemsRead?(): number;
  inputFinished?(): boolean;
}

export interface ProgressReporter {
  itemDone(failed: boolean): void;
  /** What is under way while no item finishes (an expert's long batch), shown until the next item. */
  activity(text: string): void;
  /** Items an interrupted run finished (resuming): counted as done, not in the rate. */
  alreadyDone(items: number): void;
  /** Prints a line without tearing the bar; shown even when quiet. */
  log(message: string): void;
  /** `complete: false` (interrupted, failed) leaves the bar where it was instead of filling it. */
  stop(outcome?: { complete: boolean }): void;
}

/**
 * The item total: exact once the input has been read to its end (the reader reads ahead of the
 * analysis), else estimated from the items parsed per byte so far times the file's size ("~" in
 * the display); undefined for a stream of unknown size.
 */
export function estimateTotal(source: ProgressSource): { total: number; exact: boolean } | undefined {
  const read = source.itemsRead?.() ?? 0;
  if (source.inputFinished?.()) return { total: read, exact: true };
  const size = source.totalBytes();
  const bytes = source.bytesRead();
  if (!size || bytes <= 0 || read === 0) return undefined;
  return { total: Math.max(read, Math.round((read * size) / bytes)), exact: false };
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/**
 * Progress on stderr, counted in items: the total is exact once the reader has reached the input's
 * end and estimated from bytes before that (see estimateTotal); the ETA divides the items left by
 * the rate so far. Without a TTY it prints a plain line every few seconds, also while no item
 * finishes (a heartbeat), which reads well in CI logs and `nohup` files.
 */
export function createProgressReporter(
  source: ProgressSource,
  options: { quiet: boolean; stream?: NodeJS.WriteStream; intervalMs?: number },
): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const started = performance.now();
  let done = 0;
  let failed = 0;
  let activity = "";
  let resumed = 0;
  const rate = () => done / Math.max(1e-3, (performance.now() - started) / 1000);
  const eta = () => {
    const estimate = estimateTotal(source);
    if (!estimate || done === 0) return "?";
    return formatDuration(Math.max(0, estimate.total - resumed - done) / rate());
  };
  const totalText = () => {
    const estimate = estimateTotal(source);
    return estimate ? `${estimate.exact ? "" : "~"}${estimate.total}` : "?";
  };

  if (options.quiet) {
    // Quiet drops the progress display, not warnings: a fallback the user did not ask for must show.
    return { itemDone: () => undefined, activity: () => undefined, alreadyDone: () => undefined, log: (message) => void stream.write(`${message}\n`), stop: () => undefined };
  }

  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: "{bar} {value}/{totalText} items ({failed} with errors) | {rate} items/s | ETA {etaText}{activity}",
        hideCursor: true,
        clearOnComplete: false,
        barsize: 24,
        fps: 5,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    const payload = () => ({ failed, rate: rate().toFixed(1), etaText: eta(), totalText: totalText(), activity: activity ? ` | ${activity}` : "" });
    const barTotal = () => Math.max(1, estimateTotal(source)?.total ?? resumed + done + 1);
    bar.start(1, 0, payload());
    return {
      itemDone(isFailure) {
        done++;
        if (isFailure) failed++;
        activity = "";
        bar.setTotal(barTotal());
        bar.update(resumed + done, payload());
      },
      activity(text) {
        activity = text;
        bar.update(resumed + done, payload());
      },
      alreadyDone(items) {
        resumed += items;
        bar.update(resumed + done, payload());
      },
      log(message) {
        bar.stop();
        stream.write(`${message}\n`);
        bar.start(barTotal(), resumed + done, payload());
      },
      stop(outcome = { complete: true }) {
        if (outcome.complete) bar.setTotal(Math.max(1, resumed + done));
        bar.update(resumed + done, payload());
        bar.stop();
      },
    };
  }

  // Without a terminal: a line every few seconds while items finish, and a heartbeat line when none
  // has finished for a while (a long batch), so a log never goes silent during the work.
  const intervalMs = options.intervalMs ?? 5000;
  let lastLine = performance.now();
  let lastItemAt = performance.now();
  const line = () => {
    lastLine = performance.now();
    const waiting = (performance.now() - lastItemAt) / 1000;
    const busy =
      waiting * 1000 >= intervalMs
        ? `; working, ${formatDuration(waiting)} since the last item finished${activity ? ` (${activity})` : ""}`
        : "";
    stream.write(
      `news-moe: ${resumed + done} of ${totalText()} items done${resumed ? ` (${resumed} from the journal)` : ""}, ${failed} with errors, ${rate().toFixed(1)} items/s, ETA ${eta()}${busy}\n`,
    );
  };
  const heartbeat = setInterval(() => {
    if (performance.now() - lastLine >= intervalMs) line();
  }, Math.max(250, Math.floor(intervalMs / 2)));
  heartbeat.unref();
  return {
    itemDone(isFailure) {
      done++;
      if (isFailure) failed++;
      lastItemAt = performance.now();
      activity = "";
      if (performance.now() - lastLine >= intervalMs) line();
    },
    activity(text) {
      activity = text;
    },
    alreadyDone(items) {
      resumed += items;
    },
    log(message) {
      stream.write(`${message}\n`);
    },
    stop() {
      clearInterval(heartbeat);
      if (done > 0) line();
    },
  };
}
