import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { childEnv } from "../../../child-env.test-fixture.js";
import { Services } from "../../../core/services.js";
import { localRuntimeService } from "./local-service.js";
import { tempDir } from "./local-runtime.test-fixture.js";

const repo = fileURLToPath(new URL("../../../..", import.meta.url));

describe("localRuntimeService", () => {
  const dir = tempDir("local-service");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("does not load Miniflare when the local backend's modules are imported, only when the service starts", () => {
    const script = `
      import { createRequire } from "node:module";
      const require = createRequire(import.meta.url);
      const miniflareLoaded = () => Object.keys(require.cache).some((file) => file.includes("/node_modules/miniflare/"));
      const { localRuntimeService } = await import("./src/providers/cloudflare/local/local-service.ts");
      const afterImport = miniflareLoaded();
      const backend = await localRuntimeService.start({ rootDir: ${JSON.stringify(dir)}, warn() {} });
      const afterStart = miniflareLoaded();
      await localRuntimeService.stop(backend);
      console.log(JSON.stringify({ afterImport, afterStart, started: backend.runtime.started }));
    `;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--conditions=source", "--input-type=module", "-e", script], { cwd: repo, env: childEnv(), encoding: "utf8" });
    // Starting the service loads Miniflare (so that a missing install fails early); workerd starts on the first change.
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual({ afterImport: false, afterStart: true, started: false });
  });

  it("keeps a run's local data under <rootDir>/.alchemy/~local, and stops workerd when the run's services are disposed", async () => {
    const services = new Services();
    const backend = await services.get(localRuntimeService, { rootDir: dir, warn: () => {} });
    expect(backend.runtime.persistRoot).toBe(path.join(dir, ".alchemy", "~local"));
    expect(await services.get(localRuntimeService, { rootDir: dir, warn: () => {} })).toBe(backend);
    const namespace = await backend.createKVNamespace("service-test", { adopt: false });
    await backend.kvPut(namespace, "k", "v");
    expect(fs.existsSync(path.join(dir, ".alchemy", "~local", "kv"))).toBe(true);
    await services.dispose();
    await expect(backend.kvGet(namespace, "k")).rejects.toThrow("has been stopped");
  });
});
