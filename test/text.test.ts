import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  countWords,
  detectLanguage,
  featureTerms,
  MIN_LETTERS,
  normalizeTerm,
  segmentBounded,
  segmentWords,
  splitSentences,
} from "../src/text/index.js";

const texts = (input: string) => splitSentences(input).map((s) => s.text);

describe("splitSentences", () => {
  it("does not break after titles before names", () => {
    expect(texts("Mr. Okafor signed a new deal. He met Dr. Lindqvist at 10 a.m. on Friday.")).toEqual([
      "Mr. Okafor signed a new deal.",
      "He met Dr. Lindqvist at 10 a.m. on Friday.",
    ]);
    expect(texts("Lt. Col. Ferris presented the trophy. Gen. Abara applauded.")).toEqual([
      "Lt. Col. Ferris presented the trophy.",
      "Gen. Abara applauded.",
    ]);
    expect(texts("He grew up in St. Helens and joined the academy at nine. Then he left.")).toEqual([
      "He grew up in St. Helens and joined the academy at nine.",
      "Then he left.",
    ]);
  });

  it("keeps acronyms, numbers with a point and No. 1 inside their sentence", () => {
    expect(texts("The U.S. side averaged 2.5 goals a game. They are ranked No. 1 in the world.")).toEqual([
      "The U.S. side averaged 2.5 goals a game.",
      "They are ranked No. 1 in the world.",
    ]);
  });

  it("keeps initials with the surname, but ends a sentence on a letter before a sentence opener", () => {
    expect(texts("J. R. Hartley opened the new stand. Fans queued for hours.")).toEqual([
      "J. R. Hartley opened the new stand.",
      "Fans queued for hours.",
    ]);
    expect(texts("They were drawn in Group B. The draw was held in Zurich.")).toEqual([
      "They were drawn in Group B.",
      "The draw was held in Zurich.",
    ]);
  });

  it("keeps quotes with their sentence and attributions with their quote", () => {
    expect(
      texts("“We were brilliant,” said the coach. “Absolutely brilliant!” he added. The fans agreed."),
    ).toEqual(["“We were brilliant,” said the coach.", "“Absolutely brilliant!” he added.", "The fans agreed."]);
    expect(texts("He said: “It’s over.” Then he walked off.")).toEqual(["He said: “It’s over.”", "Then he walked off."]);
    expect(texts("'We won!' said Kowalczyk. Nobody argued.")).toEqual(["'We won!' said Kowalczyk.", "Nobody argued."]);
    expect(texts("«C’est fini», a dit l’entraîneur. Il est parti.")).toEqual([
      "«C’est fini», a dit l’entraîneur.",
      "Il est parti.",
    ]);
  });

  it("treats an ellipsis before a capital as an end, and before lower case as a pause", () => {
    expect(texts("Wait... what happened? Nobody knows… The match was abandoned.")).toEqual([
      "Wait... what happened?",
      "Nobody knows…",
      "The match was abandoned.",
    ]);
  });

  it("splits paragraphs that a scraper glued together without a space", () => {
    expect(texts("The fee was 3.5 million.Next season starts in August.")).toEqual([
      "The fee was 3.5 million.",
      "Next season starts in August.",
    ]);
  });

  it("ends a sentence at a blank line and joins a hard-wrapped line", () => {
    expect(texts("Rovers 2-0 Athletic\n\nThe hosts were superb")).toEqual(["Rovers 2-0 Athletic", "The hosts were superb"]);
    expect(texts("The hosts were superb in the first half and\nthoroughly deserved their lead.")).toEqual([
      "The hosts were superb in the first half and\nthoroughly deserved their lead.",
    ]);
  });

  it("handles German and French shorthands", () => {
    expect(texts("Der Stürmer, z. B. Hofmann, traf zweimal. Danach war Schluss.")).toEqual([
      "Der Stürmer, z. B. Hofmann, traf zweimal.",
      "Danach war Schluss.",
    ]);
    expect(texts("M. Dupont a marqué deux fois. Quelle soirée.")).toEqual(["M. Dupont a marqué deux fois.", "Quelle soirée."]);
  });

  it("splits Japanese and Chinese on their full stops", () => {
    expect(texts("試合は終わった。日本が勝った！素晴らしい。")).toEqual(["試合は終わった。", "日本が勝った！", "素晴らしい。"]);
    expect(texts("比赛结束了。主队赢了。")).toEqual(["比赛结束了。", "主队赢了。"]);
  });

  it("gives offsets that cut each sentence out of the original, whitespace excluded", () => {
    const original = "  Rovers won.\n\n  “Great day,” said Mr. Ames.   Fans sang…  ";
    const sentences = splitSentences(original);
    expect(sentences.map((s) => [s.start, s.end])).toEqual([
      [2, 13],
      [17, 44],
      [47, 57],
    ]);
    for (const s of sentences) expect(original.slice(s.start, s.end)).toBe(s.text);
  });

  it("returns nothing for blank text", () => {
    expect(splitSentences("")).toEqual([]);
    expect(splitSentences(" \n\t ")).toEqual([]);
  });

  it("splits a 300,000-character article (beyond what Intl.Segmenter handles in one piece)", () => {
    const paragraph =
      "Mr. Ames scored twice as Rovers beat Athletic 3-1 on Saturday. “It was a good day,” he said. The win lifts them to 2nd.\n\n";
    const article = paragraph.repeat(2_500);
    const sentences = splitSentences(article);
    expect(sentences).toHaveLength(7_500);
    expect(sentences[3]?.text).toBe("Mr. Ames scored twice as Rovers beat Athletic 3-1 on Saturday.");
    expect(sentences.at(-1)?.text).toBe("The win lifts them to 2nd.");
  });
});

describe("segmentBounded", () => {
  // Reference: Intl.Segmenter on the whole string, which is fine at this size.
  const text = Array.from(
    { length: 40 },
    (_, i) =>
      `Match ${i}: Rovers’ keeper made ${i % 7} saves. “We’re happy,” said Dr. Ames! Fans sang… ` +
      (i % 5 === 0 ? "\n\n" : "") +
      "試合は終わった。",
  ).join(" ");

  for (const granularity of ["word", "sentence"] as const) {
    it(`matches Intl.Segmenter on the whole text (${granularity}), with small windows`, () => {
      const reference = [...new Intl.Segmenter("en", { granularity }).segment(text)].map((s) => [s.index, s.segment]);
      const bounded = [...segmentBounded(text, granularity, "en", 150)].map((s) => [s.index, s.segment]);
      expect(bounded).toEqual(reference);
    });
  }
});

describe("words", () => {
  it("counts words, not punctuation, keeping contractions and decimals whole", () => {
    const words = segmentWords("Rovers’ 2-0 win, the club's 3.5m fee; don't panic!").map((w) => w.text);
    // A trailing apostrophe (plural possessive) is punctuation to ICU, an inner one is not.
    expect(words).toEqual(["Rovers", "2", "0", "win", "the", "club's", "3.5m", "fee", "don't", "panic"]);
    expect(countWords("Rovers’ 2-0 win, the club's 3.5m fee; don't panic!")).toBe(10);
    expect(countWords("")).toBe(0);
  });

  it("counts the words ICU finds, by either path", () => {
    // Reference: Intl.Segmenter's word-like segments, counted directly.
    const icuCount = (text: string) =>
      [...new Intl.Segmenter("en", { granularity: "word" }).segment(text)].filter((s) => s.isWordLike).length;
    const samples = [
      readFileSync(new URL("./fixtures/text/late-collapse-report.txt", import.meta.url), "utf8"),
      "The U.S. Open starts on 25 August; tickets cost $1,200.50 (about £950) for the 2nd week.",
      "Rovers’ keeper, 34, said: “It’s 1-0 — we don't care how.” Re:match at 10:30 on Sat.",
      "Der Stürmer traf zweimal, z. B. in der 90. Minute. L’équipe a gagné 3–1. ¡Qué partido! 👏🏽👏",
      "Хорошая игра: 2:1. Ομάδα νίκησε. 한국 팀이 이겼다.",
      "試合は終わった。日本が勝った！ Rovers won 2-0.",
      "สวัสดีครับ ทีมชนะแล้ว",
    ];
    for (const text of samples) expect(countWords(text)).toBe(icuCount(text));
    // And the same words, with the same offsets, as ICU's word-like segments.
    const icuWords = (text: string) =>
      [...new Intl.Segmenter("en", { granularity: "word" }).segment(text)]
        .filter((s) => s.isWordLike)
        .map((s) => ({ text: s.segment, start: s.index, end: s.index + s.segment.length }));
    for (const text of samples) expect(segmentWords(text)).toEqual(icuWords(text));
  });

  it("gives word offsets into the text", () => {
    const text = "Goal! Ames again.";
    for (const w of segmentWords(text)) expect(text.slice(w.start, w.end)).toBe(w.text);
  });

  it("segments Chinese and Japanese into several words", () => {
    expect(countWords("比赛结束了，主队赢了。")).toBeGreaterThan(2);
    expect(countWords("日本代表が勝利した。")).toBeGreaterThan(2);
  });

  it("normalises terms: case, width, typographic apostrophes, possessive", () => {
    expect(normalizeTerm("Arsenal’s")).toBe("arsenal");
    expect(normalizeTerm("ＦＩＦＡ")).toBe("fifa");
    expect(normalizeTerm("DON’T")).toBe("don't");
  });

  it("drops English stop words from feature terms", () => {
    expect(featureTerms("The Rovers’ captain said he was proud of them")).toEqual(["rovers", "captain", "proud"]);
    expect(featureTerms("The captain", { stopWords: new Set() })).toEqual(["the", "captain"]);
  });
});

describe("detectLanguage", () => {
  it("identifies news paragraphs in several languages", () => {
    expect(detectLanguage("The home side were the better team for most of the afternoon and deserved the win.").language).toBe("eng");
    expect(detectLanguage("Les supporters ont chanté pendant tout le match malgré la pluie et le froid.").language).toBe("fra");
    expect(detectLanguage("El equipo ganó el partido en el último minuto gracias a un gol de cabeza.").language).toBe("spa");
    expect(detectLanguage("Die Mannschaft hat das Spiel in der letzten Minute noch gewonnen.").language).toBe("deu");
    expect(detectLanguage("日本代表は試合の最後に決勝点を挙げた。").language).toBe("jpn");
  });

  it("answers und for too little text, and counts the letters it judged on", () => {
    const short = detectLanguage("Goal!");
    expect(short).toMatchObject({ language: "und", confidence: 0, letters: 4 });
    expect(detectLanguage("Hello there").language).toBe("und");
    expect(detectLanguage("3-1 (2-0)").language).toBe("und");
    expect(MIN_LETTERS).toBeGreaterThanOrEqual(10);
  });

  it("reports a confidence in [0, 1] and the runner-up", () => {
    const guess = detectLanguage("Les supporters ont chanté pendant tout le match malgré la pluie et le froid.");
    expect(guess.confidence).toBeGreaterThan(0);
    expect(guess.confidence).toBeLessThanOrEqual(1);
    expect(typeof guess.runnerUp).toBe("string");
  });

  it("tells Portuguese from Galician and Spanish, and answers ISO 639-3 codes", () => {
    expect(detectLanguage("O governo anunciou novas medidas para a economia nesta segunda-feira.").language).toBe("por");
    expect(detectLanguage("Die Mannschaft war großartig und hat das Spiel verdient gewonnen.").language).toBe("deu");
    expect(detectLanguage("比赛在最后一分钟才决出胜负，主队以二比一获胜。").language).toBe("cmn");
  });

  it("can be restricted to the languages a caller serves", () => {
    expect(detectLanguage("The keeper made a string of fine saves late on.", { only: ["eng", "fra"] }).language).toBe("eng");
  });
});
