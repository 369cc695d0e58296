import type { NewsItem } from "../core/news-item.js";
import { countWords, detectLanguage } from "../text/index.js";
import type { ItemFeatures } from "../core/router.js";

/** Computed once per item, before routing; cheap enough for millions of items. */
export function computeFeatures(item: NewsItem): ItemFeatures {
  const content = item.content;
  return {
    words: countWords(content),
    chars: content.length,
    language: detectLanguage(content).language,
    hasHeadline: typeof item.headline === "string" && item.headline.trim().length > 0,
    topics: Array.isArray(item.topics) ? item.topics.filter((t): t is string => typeof t === "string") : [],
  };
}
