/**
 * The generation settings `pipeline("summarization", model)(text, max_length=300, min_length=30,
 * do_sample=False)` ends up with in transformers 4.57.6, so the summariser generates what the
 * tutorial's call generates.
 *
 * When the pipeline is built (`Pipeline.__init__`):
 *   1. it starts from the pipeline's own defaults, `GenerationConfig(max_new_tokens=256, num_beams=4)`;
 *   2. every field still at `GenerationConfig()`'s global default takes the model's value when the
 *      model's differs from the global default (`_prepare_generation_config(use_model_defaults=True)`),
 *      so the pipeline's num_beams=4 wins over a model's own num_beams;
 *   3. if max_new_tokens is still the pipeline's 256 and the model chose a max_length other than 20,
 *      max_new_tokens is dropped so the model's max_length counts;
 *   4. `config.task_specific_params["summarization"]` is applied on top.
 * The call's keyword arguments then override all of that. The model's values are its
 * generation_config.json when present, else the generation fields of config.json.
 */
import {
  DEFAULT_GENERATION_OPTIONS,
  type GenerationOptions,
  generationOptionsFromHfJson,
} from "../../runtime/generation/index.js";

const PIPELINE_DEFAULTS: GenerationOptions = { maxNewTokens: 256, numBeams: 4 };
const GLOBAL_DEFAULT_MAX_LENGTH = 20;

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Steps 1–4 above: the pipeline's generation config before the call's arguments. */
export function summarizationPipelineDefaults(
  config: Readonly<Record<string, unknown>>,
  generationConfig: Readonly<Record<string, unknown>> | undefined,
): GenerationOptions {
  const model = generationOptionsFromHfJson(generationConfig ?? config);
  const globals = DEFAULT_GENERATION_OPTIONS as Readonly<Record<string, unknown>>;
  const merged: Record<string, unknown> = { ...PIPELINE_DEFAULTS };
  for (const [key, modelValue] of Object.entries(model)) {
    const current = Object.hasOwn(merged, key) ? merged[key] : globals[key];
    if (sameValue(current, globals[key]) && !sameValue(modelValue, globals[key])) merged[key] = modelValue;
  }
  const maxLength = merged["maxLength"];
  if (merged["maxNewTokens"] === PIPELINE_DEFAULTS.maxNewTokens && typeof maxLength === "number" && maxLength !== GLOBAL_DEFAULT_MAX_LENGTH) {
    merged["maxNewTokens"] = null;
  }
  const taskParams = (config["task_specific_params"] as Record<string, unknown> | undefined)?.["summarization"];
  if (typeof taskParams === "object" && taskParams !== null) {
    const { prefix: _prefix, ...generationFields } = taskParams as Record<string, unknown>;
    for (const [key, value] of Object.entries(generationOptionsFromHfJson(generationFields))) {
      if (value !== undefined) merged[key] = value;
    }
  }
  return merged as GenerationOptions;
}

/**
 * The pipeline's input prefix: `task_specific_params.summarization.prefix` when set, else
 * `config.prefix` (" " for distilbart-cnn), else nothing.
 */
export function summarizationPrefix(config: Readonly<Record<string, unknown>>): string {
  const taskParams = (config["task_specific_params"] as Record<string, unknown> | undefined)?.["summarization"];
  const taskPrefix = typeof taskParams === "object" && taskParams !== null ? (taskParams as Record<string, unknown>)["prefix"] : undefined;
  if (typeof taskPrefix === "string") return taskPrefix;
  return typeof config["prefix"] === "string" ? config["prefix"] : "";
}
