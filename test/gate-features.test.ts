/** What the gate reads from an item: lengths as people count them, terms, and metadata fields by their type. */
import { describe, expect, it } from "vitest";
import { extractFeatures } from "../src/learned-gate/gate-features.js";

const numeric = (x: ReturnType<typeof extractFeatures>) => Object.fromEntries([...x.numeric].map(([name, { kind, value }]) => [name, `${kind} ${value}`]));

describe("gate features", () => {
  it("counts words as wc -w does, characters as code points, sentences by their ends", () => {
    // By hand: 7 whitespace-separated words ("1–0" and "O’Connell" are one each), 3 sentences
    // (the last has no full stop), 2 headline words; 42 characters with the emoji counted once.
    const x = extractFeatures({ id: "a", headline: "Late drama", content: "Won 1–0.  O’Connell scored! Fans 🎉 cheered" }, { fields: [] });
    expect(numeric(x)).toEqual({ words: "count 7", characters: "count 42", sentences: "count 3", "headline words": "count 2" });
    expect([...x.terms].filter((t) => t.startsWith('"')).sort()).toEqual(
      ['"0"', '"0 o"', '"1"', '"1 0"', '"cheered"', '"connell"', '"connell scored"', '"fans"', '"fans cheered"', '"o"', '"o connell"', '"scored"', '"scored fans"', '"won"', '"won 1"'].sort(),
    );
    expect(x.terms.has('headline:"drama"')).toBe(true);
  });

  it("turns metadata into measurements (numbers, dates, array lengths) and categories", () => {
    const item = {
      id: "b",
      content: "",
      rating: 4.5,
      word_count: "412",
      publication_date: "2024-10-01T06:00:00Z",
      images: [{ url: "x" }, { url: "y" }],
      tags: ["Cup", "Final"],
      author: "BBC Sport",
      live: true,
      missing: null,
    };
    const x = extractFeatures(item, { fields: ["rating", "word_count", "publication_date", "images", "tags", "author", "live", "missing", "absent.path"] });
    expect(numeric(x)).toEqual({
      words: "count 0",
      characters: "count 0",
      sentences: "count 0",
      "headline words": "count 0",
      rating: "number 4.5",
      word_count: "number 412",
      publication_date: `date ${Date.UTC(2024, 9, 1, 6)}`,
      "images count": "count 2",
      "tags count": "count 2",
    });
    const categories = [...x.terms].filter((t) => t.includes("="));
    expect(categories.sort()).toEqual(["author=bbc sport", "live=true", "rating=4.5", "tags=cup", "tags=final", "word_count=412"]);
  });
});
