import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import alchemy, { Resource } from "alchemy";
import { createTestSchema, type TestSchema } from "../../state/postgres/postgres.test-fixture.js";
import { captureIO } from "../io.test-fixture.js";
import { runCli } from "../program.js";

const Thing = Resource("test::Thing", async function (_id: string, props: { name: string; ref?: unknown }) {
  if (this.phase === "delete") return this.destroy();
  return { name: props.name, made: "é ✓ 数据" };
});

let dir = "";
let db: TestSchema | undefined;
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-transfer-"));
  const app = await alchemy("shop", { stage: "dev", rootDir: dir, quiet: true });
  const root = await Thing("root", { name: "root" });
  await alchemy.run("backend", async () => {
    await Thing("db", { name: "db", ref: root });
    await alchemy.run("deep", async () => void (await Thing("cache", { name: "cache" })));
  });
  await app.finalize();
});
afterEach(async () => {
  await db?.drop();
  db = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

const cli = async (...argv: string[]) => {
  const io = captureIO(dir, { USER: "ada" });
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
};
const records = (exported: string) => JSON.parse(exported).records;

describe("alchemy state migrate, export and import", () => {
  it("migrates a stage from the filesystem store to SQLite and exports the same records from both", async () => {
    const before = await cli("state", "export", "--stage", "dev");
    expect(before.code).toBe(0);
    expect(records(before.out)).toHaveLength(3);
    const migrated = await cli("state", "migrate", "--stage", "dev", "--to", "sqlite:copy.sqlite");
    expect(migrated.err).toBe("");
    expect(migrated.code).toBe(0);
    expect(migrated.out).toContain(`Migrated 3 record(s) of shop/dev from ${path.join(dir, ".alchemy")} to sqlite:${path.join(dir, "copy.sqlite")}; verified.`);
    const after = await cli("state", "export", "--stage", "dev", "--from", "sqlite:copy.sqlite", "--app", "shop");
    expect(records(after.out)).toEqual(records(before.out));
    // The source is untouched, and its lock released.
    expect((await cli("state", "export", "--stage", "dev")).out).toBe(before.out);
    expect(fs.existsSync(path.join(dir, ".alchemy/shop/dev/~lock"))).toBe(false);
  });

  it("migrates a stage to PostgreSQL and refuses to copy onto a stage that already has records there", async () => {
    db = await createTestSchema();
    const url = `${db.connectionString}?schema=${db.schema}`;
    const first = await cli("state", "migrate", "--stage", "dev", "--to", url);
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    const rows = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${db.schema}".records`);
    expect(Number(rows[0]!.n)).toBe(3);
    const again = await cli("state", "migrate", "--stage", "dev", "--to", url);
    expect(again.code).toBe(1);
    expect(again.err).toContain(`Stage "dev" of app "shop" already has 3 record(s)`);
  });

  it("round-trips an export through import into another store exactly", async () => {
    const exported = await cli("state", "export", "--stage", "dev", "-o", "dev.json");
    expect(exported.code).toBe(0);
    expect(fs.statSync(path.join(dir, "dev.json")).mode & 0o777).toBe(0o600);
    const imported = await cli("state", "import", "dev.json", "--to", "file:elsewhere");
    expect(imported.code).toBe(0);
    const again = await cli("state", "export", "--stage", "dev", "--from", "file:elsewhere");
    expect(again.out).toBe(fs.readFileSync(path.join(dir, "dev.json"), "utf8"));
  });

  it("rejects a file that is not an export, and a stage with nothing to migrate", async () => {
    fs.writeFileSync(path.join(dir, "bad.json"), JSON.stringify({ format: "other" }));
    const bad = await cli("state", "import", "bad.json", "--to", "file:elsewhere");
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("is not an alchemy stage export");
    const empty = await cli("state", "migrate", "--stage", "nothing", "--to", "sqlite:x.sqlite");
    expect(empty.code).toBe(1);
    expect(empty.err).toContain(`Stage "nothing" of app "shop" has no records`);
  });

  it("lets list, show, stages, rm and unlock work on a SQLite store named by --state", async () => {
    expect((await cli("state", "migrate", "--stage", "dev", "--to", "sqlite:copy.sqlite")).code).toBe(0);
    const at = ["--state", "sqlite:copy.sqlite", "--app", "shop"];
    const list = await cli("state", "list", "--stage", "dev", "--json", ...at);
    expect(JSON.parse(list.out).map((r: { fqn: string }) => r.fqn)).toEqual(["shop/dev/backend/db", "shop/dev/backend/deep/cache", "shop/dev/root"]);
    const show = await cli("state", "show", "shop/dev/backend/db", ...at);
    expect(JSON.parse(show.out)).toMatchObject({ id: "db", deps: ["shop/dev/root"] });
    const stages = await cli("state", "stages", "--json", ...at);
    expect(JSON.parse(stages.out)).toMatchObject([{ stage: "dev", resources: 3, updatedAt: expect.any(String), lastDeploy: { command: "node (shop program)" } }]);
    const rm = await cli("state", "rm", "shop/dev/backend/deep/cache", ...at);
    expect(rm.code).toBe(0);
    expect(JSON.parse((await cli("state", "list", "--stage", "dev", "--json", ...at)).out)).toHaveLength(2);
    const unlock = await cli("unlock", "--stage", "dev", ...at);
    expect(unlock.code).toBe(0);
    expect(unlock.err).toContain(`is not locked`);
    const noApp = await cli("state", "list", "--stage", "dev", "--state", "sqlite:copy.sqlite");
    expect(noApp.code).toBe(2);
    expect(noApp.err).toContain("Pass --app <name>");
  });

  it("carries the stage metadata, so secrets migrated to SQLite still open with the stage's password", async () => {
    const deploy = async (stateStore?: (scope: { chain: readonly string[] }) => import("alchemy").StateStore) => {
      const app = await alchemy("vault", { stage: "dev", rootDir: dir, quiet: true, password: "pw", ...(stateStore ? { stateStore } : {}) });
      await Thing("key", { name: "k", ref: alchemy.secret("canary-secret") });
      await app.finalize();
      return app;
    };
    await deploy();
    const migrated = await cli("state", "migrate", "--stage", "dev", "--app", "vault", "--to", "sqlite:vault.sqlite");
    expect(migrated.err).toBe("");
    const exported = JSON.parse((await cli("state", "export", "--stage", "dev", "--app", "vault", "--from", "sqlite:vault.sqlite")).out);
    expect(exported.meta.secrets.keys).toHaveLength(1);
    expect(JSON.stringify(exported)).not.toContain("canary-secret");
    const { SQLiteStateStore } = await import("../../state/sqlite/sqlite-state-store.js");
    const again = await deploy((scope) => new SQLiteStateStore(scope, { filename: path.join(dir, "vault.sqlite") }));
    expect(again.summary).toMatchObject({ unchanged: 1, created: 0, updated: 0 });
  });
});
