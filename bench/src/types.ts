/**
 * The data the benchmark passes around: what the harness asks a runner to do (`RunnerSpec`), what a
 * runner hands back (`RunnerResult`, written as JSON by a child process, Python or Node), and the
 * report built from them. Field names are snake_case because the Python runner writes the same JSON.
 */

/** A named group of articles timed on its own ("common": both systems can do them; "long": > 1,024 tokens). */
export interface PhaseSpec {
  name: string;
  ids: string[];
}

/** What the harness gives a Node runner (as a JSON file path on its command line). */
export interface RunnerSpec {
  system: string;
  articles: string;
  phases: PhaseSpec[];
  summarizerModel: string;
  sentimentModel?: string;
  dtype: "fp32" | "q8";
  /** news-moe: the summariser's decoder batching (its default where absent). */
  batching?: "static" | "continuous";
  threads: number;
  maxLength: number;
  minLength: number;
  out: string;
}

/** One article's outcome in one system. Times in seconds. */
export interface RunnerRow {
  id: string;
  /** Encoder tokens of `prefix + content` with <s> … </s>, where the runner knows it. */
  input_tokens?: number;
  summary?: string;
  /** Decoder start token first, as `generate` returns it. Absent when not exactly known. */
  summary_token_ids?: number[];
  summary_error?: string;
  /** Tokens of all summaries generated for this article (windows and reduce passes), start token excluded. */
  generated_tokens?: number;
  sentiment_label?: string;
  sentiment_score?: number;
  sentiment_error?: string;
  /** Sequential systems: this article's own processing time. */
  latency_s?: number;
  /** Time from the phase's start until this article's result was available. */
  done_at_s: number;
  /** news-moe's report for long articles (windows, levels). */
  long_article?: unknown;
}

export interface PhaseResult {
  name: string;
  /** Wall time of the phase, first article in to last result out. */
  run_s: number;
  rows: RunnerRow[];
  /** All summary tokens generated in the phase (start tokens excluded); rows' sum when absent. */
  generated_tokens_total?: number;
  /** news-moe: where the summariser's generation time went in this phase (ms), and its decoder engine. */
  summarizer_timing?: Record<string, number | string | number[]>;
  /** news-moe: time inside the sentiment expert's analyze calls (ms; it runs alongside the summariser). */
  sentiment_ms?: number;
  /**
   * Peak resident set during this phase alone, kB: VmHWM after the phase, reset to the current RSS at its
   * start (`/proc/self/clear_refs`). Absent where the kernel refused the reset.
   */
  vmhwm_kb?: number | null;
}

export interface RunnerResult {
  system: string;
  /** How per-article latency is defined for this system ("service": own time; "since_start": done_at). */
  latency_kind: "service" | "since_start";
  import_s: number;
  load_s: { summarizer: number; sentiment?: number };
  phases: PhaseResult[];
  /** Peak resident set size of the runner process over the whole run, load included, kB (VmHWM). */
  vmhwm_kb: number | null;
  /** Resident set size right after the models were loaded, kB. */
  rss_after_load_kb?: number | null;
  peak_rss_source: string;
  threads: number;
  versions: Record<string, string>;
  generation: Record<string, unknown>;
  notes?: string[];
}

/** Outcome of comparing a system's summary token ids with the baseline's. */
export interface TokenComparison {
  identical: boolean;
  /** First index where the sequences differ (the shorter length when one is a prefix of the other). */
  first_difference?: number;
  length: number;
  baseline_length: number;
}
