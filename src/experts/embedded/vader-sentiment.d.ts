// Types for the parts of the untyped `vader-sentiment` package (CommonJS bundle) that we call.
declare module "vader-sentiment" {
  export interface PolarityScores {
    neg: number;
    neu: number;
    pos: number;
    /** Normalised sum of valences in [-1, 1], rounded by the package to 4 decimals. */
    compound: number;
  }
  const vader: {
    SentimentIntensityAnalyzer: {
      polarity_scores(text: string): PolarityScores;
    };
  };
  export default vader;
}
