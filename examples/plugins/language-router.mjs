// A router in one file: it gets a batch of items with their features and returns one decision per
// item. This one gives each task to the first expert that can run and declares the item's language
// (experts that declare none take any language), with weight 1, and says why.
//   news-moe analyze news.json --plugin examples/plugins/language-router.mjs --router first-speaker
export default {
  name: "first-speaker",
  maxBatchSize: 128,
  async route(batch, { experts }) {
    return batch.map(({ features }) => {
      const chosen = new Map();
      for (const expert of experts) {
        if (!expert.available || chosen.has(expert.task)) continue;
        const speaks = !expert.languages || expert.languages.includes(features.language);
        if (speaks) chosen.set(expert.task, expert);
      }
      return {
        router: "first-speaker",
        experts: [...chosen.values()].map((expert) => ({
          expert: expert.name,
          task: expert.task,
          weight: 1,
          reason: `first available ${expert.task} expert for language "${features.language}"`,
        })),
      };
    });
  },
};
