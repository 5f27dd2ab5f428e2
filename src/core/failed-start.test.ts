/**
 * A start that fails, `alchemy()` rejecting, leaves the stage free: no lock
 * behind, so the next run neither waits for it nor takes it over. Each cause
 * in a real process of its own, on every persistent store.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeProject, REPO, removeProject, runProgram } from "../cli/cli.test-fixture.js";
import { canLock } from "../state/stage-lock.js";
import { parseStoreUrl, storeFactory } from "../state/store-url.js";
import { persistentStoreUrls } from "../state/store-urls.test-fixture.js";
import Sqlite from "better-sqlite3";
import pg from "pg";

const STORE_URL_MODULE = path.join(REPO, "src/state/store-url.ts");

/**
 * Application "shop", stage "dev", one resource holding a secret, its state
 * where $STORE says. $MAPPING is the program's stageProfileMapping (JSON).
 * Under $RECORDED_WHILE_WAITING the stage's store answers its first read of
 * the stage metadata (the check made before the lock) with nothing, as if
 * the mapping it holds was recorded by a deploy that held the lock meanwhile.
 */
const PROGRAM = `
import alchemy, { Resource } from "alchemy";
import { parseStoreUrl, storeFactory } from ${JSON.stringify(STORE_URL_MODULE)};

const Note = Resource("test::Note", async function (id, props) {
  if (this.phase === "delete") return this.destroy();
  return { text: props.text };
});

const factory = storeFactory(parseStoreUrl(process.env.STORE, process.cwd()));
const stateStore = (scope) => {
  const store = factory(scope);
  if (!process.env.RECORDED_WHILE_WAITING || scope.chain.length !== 2) return store;
  let checked = false;
  return new Proxy(store, {
    get(target, key) {
      if (key === "getStageMeta" && !checked) {
        checked = true;
        return async () => undefined;
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
};

const app = await alchemy("shop", {
  stage: "dev",
  stateStore,
  ...(process.env.MAPPING ? { stageProfileMapping: JSON.parse(process.env.MAPPING) } : {}),
});
await Note("a", { text: alchemy.secret("s3cret") });
await app.finalize();
`;

/** The lock of shop/dev in the store of `url`, as any process would read it; `undefined` when there is none. */
async function lockOf(url: string, dir: string) {
  const store = storeFactory(parseStoreUrl(url, dir))({ chain: ["shop", "dev"] });
  try {
    if (!canLock(store)) throw new Error(`${url} cannot lock stages`);
    return await store.lockInfo();
  } finally {
    await store.deinit?.();
  }
}

/** Replaces the stored text of record shop/dev/a; resolves the text it held. */
async function replaceRecord(url: string, dir: string, text: string): Promise<string> {
  const location = parseStoreUrl(url, dir);
  switch (location.kind) {
    case "file": {
      const file = path.join(location.dir, "shop/dev/a.json");
      const before = readFileSync(file, "utf8");
      writeFileSync(file, text);
      return before;
    }
    case "sqlite": {
      const db = new Sqlite(location.filename, { timeout: 5000 });
      try {
        const { body } = db.prepare("SELECT body FROM records WHERE scope = 'shop/dev' AND id = 'a'").get() as { body: string };
        db.prepare("UPDATE records SET body = ? WHERE scope = 'shop/dev' AND id = 'a'").run(text);
        return body;
      } finally {
        db.close();
      }
    }
    case "postgres": {
      const client = new pg.Client({ connectionString: location.connectionString });
      await client.connect();
      try {
        const records = `"${location.schema}".records`;
        const { rows } = await client.query<{ body: string }>(`SELECT body FROM ${records} WHERE scope = 'shop/dev' AND id = 'a'`);
        await client.query(`UPDATE ${records} SET body = $1 WHERE scope = 'shop/dev' AND id = 'a'`, [text]);
        return rows[0]!.body;
      } finally {
        await client.end();
      }
    }
    case "r2":
    case "s3":
    case "dynamodb":
      throw new Error(`${url}: this test runs on the stores persistentStoreUrls() names, not a bucket or a DynamoDB table.`);
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const MAPPING = JSON.stringify({ dev: ["ci"] });
const ALLOWED = { ALCHEMY_PROFILE: "ci", ALCHEMY_PASSWORD: "right", MAPPING };

describe("alchemy() that rejects after the stage could be locked", () => {
  it.each(persistentStoreUrls("alchemy_failed_start", cleanups))(
    "leaves no lock on %s, whatever the cause, and the next run takes nothing over",
    { timeout: 180_000 },
    async (_store, url) => {
      const dir = makeProject({ "alchemy.run.ts": PROGRAM });
      cleanups.push(() => removeProject(dir));
      const STORE = await url();
      const deployed = await runProgram(dir, { STORE, ...ALLOWED });
      expect(deployed.code, deployed.output).toBe(0);

      /** Runs the program under `env`, expecting it to fail with `error`; then the stage must be free. */
      const failedStart = async (cause: string, env: NodeJS.ProcessEnv, error: string) => {
        // Soft: each cause is reported, also after another one failed.
        const run = await runProgram(dir, { STORE, ...env });
        expect.soft(run.code, `${cause}: ${run.output}`).toBe(1);
        expect.soft(run.output, cause).toContain(error);
        expect.soft(run.output, `${cause}: the stage was free`).not.toContain("Took over");
        expect.soft(await lockOf(STORE, dir), `${cause}: the lock is gone`).toBeUndefined();
      };
      const denied = 'Profile "default" may not be used on stage "dev"';
      await failedStart("the program's mapping denies the profile", { MAPPING }, denied);
      await failedStart("the stage's recorded mapping denies the profile", {}, denied);
      await failedStart("a mapping recorded while the run waited for the lock denies the profile", { RECORDED_WHILE_WAITING: "1" }, denied);
      await failedStart("a wrong password", { ...ALLOWED, ALCHEMY_PASSWORD: "wrong" }, 'Wrong password for the secrets of stage "dev"');
      const record = await replaceRecord(STORE, dir, '{"status": "created", "kind": ');
      await failedStart("an unreadable record", ALLOWED, "is not valid JSON");
      await replaceRecord(STORE, dir, record);

      const next = await runProgram(dir, { STORE, ...ALLOWED });
      expect(next.code, next.output).toBe(0);
      expect(next.output).not.toContain("Took over");
      expect(await lockOf(STORE, dir)).toBeUndefined();
    },
  );
});
