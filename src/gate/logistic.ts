/**
 * Multinomial logistic regression on sparse features, trained by seeded SGD with AdaGrad step
 * sizes: the same examples, options and seed give the same weights, bit for bit.
 */
export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

export interface LogisticModel {
  dim: number;
  classes: number;
  /** Row-major by feature: weights[index * classes + k]. */
  weights: Float64Array;
  bias: Float64Array;
}

export interface TrainOptions {
  epochs: number;
  learningRate: number;
  /** L2 penalty applied to the weights an example touches. */
  l2: number;
  seed: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { epochs: 6, learningRate: 0.5, l2: 1e-6, seed: 1 };

/** mulberry32: a small seeded PRNG, enough for shuffling. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates with the seeded PRNG. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The class logits of one example. */
export function logits(model: LogisticModel, x: SparseVector): Float64Array {
  const K = model.classes;
  const z = Float64Array.from(model.bias);
  for (let n = 0; n < x.indices.length; n++) {
    const base = (x.indices[n] as number) * K;
    const v = x.values[n] as number;
    for (let k = 0; k < K; k++) z[k] = (z[k] as number) + v * (model.weights[base + k] as number);
  }
  return z;
}

export function softmax(z: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  const p = z.map((v) => Math.exp(v - max));
  let total = 0;
  for (const v of p) total += v;
  return p.map((v) => v / total);
}

export function predictProbabilities(model: LogisticModel, x: SparseVector): Float64Array {
  return softmax(logits(model, x));
}

export function trainLogistic(
  examples: ReadonlyArray<{ x: SparseVector; y: number }>,
  dim: number,
  classes: number,
  options: TrainOptions = DEFAULT_TRAIN_OPTIONS,
): LogisticModel {
  const K = classes;
  const model: LogisticModel = { dim, classes: K, weights: new Float64Array(dim * K), bias: new Float64Array(K) };
  const squares = new Float64Array(dim * K);
  const biasSquares = new Float64Array(K);
  const random = seededRandom(options.seed);
  const order = examples.map((_, i) => i);
  const eps = 1e-8;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (const i of shuffled(order, random)) {
      const { x, y } = examples[i] as { x: SparseVector; y: number };
      const p = predictProbabilities(model, x);
      const g = new Float64Array(K);
      for (let k = 0; k < K; k++) {
        const gk = (p[k] as number) - (k === y ? 1 : 0);
        g[k] = gk;
        biasSquares[k] = (biasSquares[k] as number) + gk * gk;
        model.bias[k] = (model.bias[k] as number) - (options.learningRate * gk) / Math.sqrt((biasSquares[k] as number) + eps);
      }
      for (let n = 0; n < x.indices.length; n++) {
        const base = (x.indices[n] as number) * K;
        const v = x.values[n] as number;
        for (let k = 0; k < K; k++) {
          const at = base + k;
          const w = model.weights[at] as number;
          const gw = (g[k] as number) * v + options.l2 * w;
          if (gw === 0) continue;
          squares[at] = (squares[at] as number) + gw * gw;
          model.weights[at] = w - (options.learningRate * gw) / Math.sqrt((squares[at] as number) + eps);
        }
      }
    }
  }
  return model;
}
