import { afterEach, describe, expect, it, vi } from "vitest";
import { BundleError } from "./bundle-error.js";
import { loadEsbuild } from "./load-esbuild.js";

/** The error Node rejects `import("esbuild")` with when the package is not installed. */
function notInstalled(): Error {
  return Object.assign(new Error("Cannot find package 'esbuild' imported from /abs/project/node_modules/alchemy/dist/providers/cloudflare/bundle/load-esbuild.js"), {
    code: "ERR_MODULE_NOT_FOUND",
  });
}

describe("loadEsbuild", () => {
  afterEach(() => {
    vi.doUnmock("esbuild");
    vi.resetModules();
  });

  it("says to npm install esbuild when the package is not installed", async () => {
    const error = await loadEsbuild("api-worker", () => Promise.reject(notInstalled())).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BundleError);
    expect((error as BundleError).message).toMatch(/^Worker "api-worker" cannot be bundled: the esbuild package is not installed .*npm install esbuild$/);
    expect((error as BundleError).cause).toMatchObject({ code: "ERR_MODULE_NOT_FOUND" });
  });

  it("passes on a module esbuild itself cannot find: a broken install, not a missing peer", async () => {
    const broken = Object.assign(new Error("Cannot find module '@esbuild/linux-x64'"), { code: "MODULE_NOT_FOUND" });

    await expect(loadEsbuild("api-worker", () => Promise.reject(broken))).rejects.toBe(broken);
  });

  it("loads the installed esbuild", async () => {
    expect(typeof (await loadEsbuild("api-worker")).build).toBe("function");
  });

  it("is not run when the bundler is imported, only when a Worker is bundled", async () => {
    let loads = 0;
    vi.resetModules();
    vi.doMock("esbuild", () => {
      loads++;
      return { build: () => Promise.reject(new Error("the stand-in esbuild was asked to build")) };
    });

    const { bundleWorker } = await import("../bundle.js");
    expect(loads).toBe(0);

    await expect(bundleWorker(import.meta.filename, { rootDir: import.meta.dirname, workerName: "api-worker" })).rejects.toThrow("the stand-in esbuild was asked to build");
    expect(loads).toBe(1);
  });
});
