import { describe, expect, it } from "vitest";
import { cleanItem, cleanText } from "../src/text/clean.js";

describe("cleanText", () => {
  it("strips tags, script and style blocks and comments, decodes entities, and counts them", () => {
    const html =
      '<p>Rovers won &amp; Town drew.</p><script type="text/javascript">var ad = "<b>x</b>";</script>' +
      "<!-- tracking --><style>p { color: red }</style><p>Fans &ldquo;loved&rdquo; it &#8211; and &#x2014; sang.</p>";
    const { text, report } = cleanText(html);
    expect(text).toBe("Rovers won & Town drew.\n\nFans “loved” it – and — sang.");
    // <p>, </p> twice (4), script, comment, style: 7 tags; &amp; &ldquo; &rdquo; &#8211; &#x2014;: 5 entities.
    expect(report).toEqual({ html_tags: 7, html_entities: 5 });
  });

  it("removes the BBC scrape's inline 'Advertisement' and image labels between sentences only", () => {
    const scraped =
      "Vale won the title. Advertisement Vale have lost only three games. Image source, Getty Images Image caption, " +
      "Smith scored twice. The Advertisement Standards Authority was not involved.";
    const { text, report } = cleanText(scraped);
    expect(text).toBe("Vale won the title. Vale have lost only three games. Smith scored twice. The Advertisement Standards Authority was not involved.");
    expect(report).toEqual({ boilerplate: ["Advertisement", "Image source, Getty Images", "Image caption,"] });
  });

  it("drops share and cookie lines but keeps the copy around them", () => {
    const scraped = "Rovers won.\nShare this article\nCopy link\nWe use cookies to improve your experience.\nAccept all cookies\nThey play again on Saturday.";
    const { text, report } = cleanText(scraped);
    expect(text).toBe("Rovers won.\nThey play again on Saturday.");
    expect(report?.boilerplate).toEqual(["Share this article", "Copy link", "We use cookies to improve your experience.", "Accept all cookies"]);
  });

  it("returns the text untouched, and no report, when there is nothing to remove", () => {
    const copy = "Rovers won 2-0 <at home>? No: at Town & Country Park, where cookies are sold; share prices rose.";
    expect(cleanText(copy)).toEqual({ text: copy });
  });

  it("can be configured: HTML or boilerplate off, extra patterns on", () => {
    const scraped = "<b>Rovers</b> won. Advertisement They play again.\nFollow our live coverage here";
    expect(cleanText(scraped, { html: false }).text).toBe("<b>Rovers</b> won. They play again.\nFollow our live coverage here");
    expect(cleanText(scraped, { boilerplate: false }).text).toBe("Rovers won. Advertisement They play again.\nFollow our live coverage here");
    const custom = cleanText(scraped, { patterns: ["^Follow our live coverage.*$"] });
    expect(custom.text).toBe("Rovers won. They play again.");
    expect(custom.report?.boilerplate).toEqual(["Advertisement", "Follow our live coverage here"]);
  });

  it("cleans an item's content only, leaving the input object as it was", () => {
    const item = { id: "a", headline: "<b>kept</b>", content: "Rovers won &amp; drew." };
    const cleaned = cleanItem(item);
    expect(cleaned.item).toEqual({ id: "a", headline: "<b>kept</b>", content: "Rovers won & drew." });
    expect(item.content).toBe("Rovers won &amp; drew.");
    expect(cleanItem({ id: "b", content: "Nothing here." })).toEqual({ item: { id: "b", content: "Nothing here." } });
  });
});
