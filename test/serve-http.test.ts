import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { isolatedEnv, runCli, tempDir } from "./helpers/cli.js";

/** Holds a loopback port, as another program would. */
async function occupiedPort(): Promise<{ port: number; holder: Server }> {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  return { port: (holder.address() as { port: number }).port, holder };
}

describe("news-moe serve: binding", () => {
  it("a port in use is one line naming it, exit 2, no stack", async () => {
    const { port, holder } = await occupiedPort();
    try {
      const dir = await tempDir();
      const result = await runCli(["serve", "--port", String(port), "--experts", "embedded"], { cwd: dir, env: isolatedEnv(dir) });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `news-moe: port 127.0.0.1:${port} is already in use (stop what holds it, or choose another with --port; --port 0 takes any free one)\n`,
      );
    } finally {
      holder.close();
    }
  });
});
