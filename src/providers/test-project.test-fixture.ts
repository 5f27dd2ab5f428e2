/**
 * A temporary project for provider tests: its own directory per test, runs of
 * a program against the stage `test-app/t` there, and the state it leaves.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach } from "vitest";
import alchemy, { type AlchemyOptions, type Application, type State } from "alchemy";

/** Registers the hooks that give each test a fresh project directory. */
export function useTestProject(prefix: string) {
  let root = "";
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), prefix));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return {
    /** The project directory of the running test. */
    get root(): string {
      return root;
    },
    /** One run of `program` against the stage `test-app/t`. */
    async deploy<T>(program: () => Promise<T>, options: AlchemyOptions = {}): Promise<{ app: Application; result: T }> {
      const app = await alchemy("test-app", { stage: "t", rootDir: root, quiet: true, ...options });
      // A failed program is released (stores closed, stage lock let go) without finalizing, as the CLI does.
      const result = await program().catch(async (error: unknown) => {
        await app.release();
        throw error;
      });
      await app.finalize();
      return { app, result };
    },
    /** The state record of a top-level resource, as the default store wrote it. */
    async record(id: string): Promise<State | undefined> {
      const file = path.join(root, ".alchemy", "test-app", "t", `${id}.json`);
      return existsSync(file) ? JSON.parse(await readFile(file, "utf8")) : undefined;
    },
    /** What a run did to `fqn`, in order. */
    actions(app: Application, fqn: string): string[] {
      return app.events.filter((e) => e.fqn === fqn && e.status !== "start").map((e) => e.action);
    },
  };
}
