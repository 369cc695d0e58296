/**
 * `torch.nn.functional.log_softmax(x, dim=-1)` on float32 rows, rounded the way torch's CPU kernel rounds.
 *
 * torch computes, per row, `max`, `L = log(sum(exp(x - max)))` in float32 and then `(x - max) - L` as two
 * float32 subtractions, in that order (the order is deliberate in torch, see pytorch#11752). Beam search
 * then compares these values across beams and against ties, so the rounding of each output matters more
 * than its last-bit accuracy. We reproduce the two rounded subtractions exactly; the sum is accumulated
 * in float64, so `L` can differ from torch's vectorised float32 sum by at most an ulp or so. That shifts
 * a whole row by the same amount and cannot reorder tokens inside it.
 */

/**
 * Writes log_softmax of `input[rowStart .. rowStart + width)` into `output[outStart ..)`.
 * `input` and `output` may be the same array (in-place).
 */
export function logSoftmaxRow(
  input: Float32Array,
  rowStart: number,
  width: number,
  output: Float32Array,
  outStart: number,
): void {
  const end = rowStart + width;
  let max = -Infinity;
  let sawNaN = false;
  for (let j = rowStart; j < end; j++) {
    const x = input[j]!;
    if (x > max) max = x;
    else if (x !== x) sawNaN = true;
  }
  if (sawNaN) {
    output.fill(NaN, outStart, outStart + width);
    return;
  }
  // Terms below e^-40 cannot move a float32 log-sum (50264 of them add < 3e-13 relatively, vs float32's
  // 6e-8 resolution); skipping their exp() halves the cost on real logits, where most tokens are far
  // below the maximum.
  let sum = 0;
  const cutoff = max - 40;
  for (let j = rowStart; j < end; j++) {
    const x = input[j]!;
    if (x > cutoff) sum += Math.exp(x - max);
  }
  const logSum = Math.fround(Math.log(sum));
  for (let j = rowStart, o = outStart; j < end; j++, o++) {
    // The Float32Array store rounds each subtraction result to float32, as torch does.
    output[o] = Math.fround(input[j]! - max) - logSum;
  }
}
