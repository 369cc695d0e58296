/**
 * A news item as the scraper API delivers it, after validation.
 * Only `id` and `content` are required; every other scraper field is optional and
 * passed through untouched so user experts and routing rules can read it.
 */
export interface NewsItem {
  id: string;
  content: string;
  headline?: string | null;
  url?: string | null;
  author?: string | null;
  topics?: string[] | null;
  publication_date?: string | null;
  keyword?: string | null;
  timestamp?: string | null;
  [field: string]: unknown;
}
