import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Several suites spawn the real CLI and run ONNX sessions; give them room on a 2-core box.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
