import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { validateItem } from "../src/io/item-schema.js";
import { FIXTURES_DIR } from "./fixtures/io/child-process.js";

describe("validateItem", () => {
  it("accepts the scraper's items, keeping every field and turning numeric ids into strings", () => {
    const items = JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, "news-sample.json"), "utf8")) as unknown[];
    const results = items.map((item, index) => validateItem(item, index));
    expect(results.map((result) => result.ok)).toEqual([true, true, true]);
    const [first, , third] = results;
    if (!first?.ok || !third?.ok) throw new Error("unreachable");
    expect(first.item).toEqual(items[0]);
    expect(first.item.images).toEqual([{ image_url: "https://ichef.bbci.co.uk/1.jpg", image_description: "Players celebrate" }]);
    // Empty content is the experts' business, not a validation failure.
    expect(third.item).toEqual({ id: "3", content: "" });
  });

  it("names the item by index and id, and lists every problem", () => {
    const result = validateItem({ id: "abc", content: 42, headline: { text: "x" }, url: "https://x", topics: ["a", 7] }, 3);
    expect(result).toEqual({
      ok: false,
      error:
        'item 3 (id "abc"): content: expected a string, got number; headline: expected a string or null, got object; ' +
        "topics[1]: expected a string, got number",
      id: "abc",
      headline: null,
      url: "https://x",
    });
  });

  it("names the item by index alone when the id is missing or unusable, still salvaging headline and url", () => {
    expect(validateItem({ headline: "Kept", url: "https://u", content: "c" }, 7)).toEqual({
      ok: false,
      error: "item 7: id: missing, expected a non-empty string or a number",
      id: null,
      headline: "Kept",
      url: "https://u",
    });
    expect(validateItem({ id: "", content: "c" }, 0)).toMatchObject({ error: "item 0: id: must not be empty" });
    expect(validateItem({ id: ["x"] }, 1)).toMatchObject({
      error: "item 1: id: expected a non-empty string or a number, got array; content: missing, expected a string",
    });
    expect(validateItem({ id: 2 ** 60, content: "c" }, 2)).toMatchObject({
      error: "item 2: id: number too large to keep exactly; quote it as a string in the input",
    });
  });

  it("rejects items that are not objects", () => {
    expect(validateItem([1, 2], 4)).toEqual({ ok: false, error: "item 4: expected an object, got array", id: null, headline: null, url: null });
    expect(validateItem("text", 5)).toMatchObject({ error: "item 5: expected an object, got string" });
    expect(validateItem(null, 6)).toMatchObject({ error: "item 6: expected an object, got null" });
  });

  it("accepts null for optional fields and rejects wrong types for each of them", () => {
    const nulls = { id: "n", content: "c", headline: null, url: null, author: null, publication_date: null, keyword: null, timestamp: null, topics: null };
    expect(validateItem(nulls, 0)).toEqual({ ok: true, item: nulls });
    const wrong = validateItem({ id: "w", content: "c", author: 1, publication_date: true, keyword: [], timestamp: 5, topics: "sport" }, 9);
    expect(wrong.ok ? "" : wrong.error).toBe(
      'item 9 (id "w"): author: expected a string or null, got number; publication_date: expected a string or null, got boolean; ' +
        "keyword: expected a string or null, got array; timestamp: expected a string or null, got number; " +
        "topics: expected an array of strings or null, got string",
    );
  });
});
