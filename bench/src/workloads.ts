/**
 * The bench's two workloads: which summariser model and which articles a run uses.
 *
 * "realistic": the full-size random-weight distilbart with its end-token bias raised
 * (tools/make-realistic-model.sh), so that the tutorial's own pipeline ends each summary at its own
 * length (median ~50-90 tokens, some under 50, some over 110, none at the 300 cap), on 50 common
 * articles of mixed length plus the long ones (bench/articles-realistic.json).
 * "worst": the plain random-weight model, which never emits the end token, so every summary runs all
 * 300 steps and every article of a generate call ends at the same step (bench/articles.json).
 */

export type WorkloadName = "realistic" | "worst";

export interface Workload {
  name: WorkloadName;
  /** Directory name of the summariser under the models' hf/ and onnx/ folders. */
  summarizer: string;
  /** Directory name of the sentiment classifier (the same in both workloads). */
  sentiment: string;
  /** Default articles file, relative to the repository root. */
  articles: string;
  /** One line for the report: what the workload stands for. */
  description: string;
}

export const WORKLOADS: Readonly<Record<WorkloadName, Workload>> = {
  realistic: {
    name: "realistic",
    summarizer: "distilbart-cnn-6-6-realistic",
    sentiment: "distilbert-sst2",
    articles: "bench/articles-realistic.json",
    description:
      "full-size random-weight models, the summariser's end-token bias raised (tools/make-realistic-model.sh) so that summaries end at varied lengths",
  },
  worst: {
    name: "worst",
    summarizer: "distilbart-cnn-6-6",
    sentiment: "distilbert-sst2",
    articles: "bench/articles.json",
    description: "full-size random-weight models (tools/make-full-models.sh); no summary ever ends before the 300-token limit",
  },
};

export function workloadNamed(name: string): Workload {
  if (!(name in WORKLOADS)) throw new Error(`unknown workload "${name}"; known: ${Object.keys(WORKLOADS).join(", ")}`);
  return WORKLOADS[name as WorkloadName];
}
