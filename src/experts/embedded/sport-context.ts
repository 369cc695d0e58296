/**
 * Whether a news item is a sport story, from the scraper's fields only (URL path, topics, keyword),
 * so sport vocabulary can be read in its sport sense. Content is not inspected: "attack" in a
 * politics story must keep its meaning even if the story mentions a football club.
 */
import type { NewsItem } from "../../core/news-item.js";

const SPORT_URL = /\/sports?(?:\/|$)/i;
const SPORT_WORDS =
  /\b(?:sports?|football|soccer|rugby|cricket|tennis|golf|athletics|boxing|formula ?(?:1|one)|f1|motorsport|cycling|basketball|baseball|nfl|nba|hockey|snooker|darts|swimming|olympics?|paralympics?|premier league|champions league|world cup)\b/i;

export function isSportItem(item: NewsItem): boolean {
  if (typeof item.url === "string" && SPORT_URL.test(safePath(item.url))) return true;
  const labels = [...(Array.isArray(item.topics) ? item.topics : []), item.keyword];
  return labels.some((label) => typeof label === "string" && SPORT_WORDS.test(label));
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}
