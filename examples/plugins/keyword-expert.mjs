// An expert in one file: a name (its key in `analyses`), a task, load() and a batched analyze()
// that returns one output (or an Error) per item.
//   news-moe analyze news.json --plugin examples/plugins/keyword-expert.mjs
export default {
  name: "KeywordExpert",
  task: "keywords",
  description: "the five most frequent words of six letters or more",
  requires: "nothing",
  maxBatchSize: 64,
  async load() {},
  async analyze(items) {
    return items.map((item) => {
      const counts = new Map();
      for (const word of item.content.toLowerCase().match(/\p{L}{6,}/gu) ?? []) counts.set(word, (counts.get(word) ?? 0) + 1);
      return { keywords: [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5).map(([word]) => word) };
    });
  },
};
