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

describe("alchemy state import takes only records that belong to the stage the export names", () => {
  const importEdited = async (edit: (text: string) => string) => {
    const exported = await cli("state", "export", "--stage", "dev");
    fs.writeFileSync(path.join(dir, "edited.json"), edit(exported.out));
    return cli("state", "import", "edited.json");
  };
  const expectNothingImported = async (stage: string) => {
    expect(fs.existsSync(path.join(dir, ".alchemy/shop", stage))).toBe(false);
    expect(records((await cli("state", "export", "--stage", "dev")).out)).toHaveLength(3);
  };

  it("refuses an export whose stage was changed but whose records still name the old stage, and writes nothing", async () => {
    const imported = await importEdited((text) => text.replaceAll('"dev"', '"s2"'));
    expect(imported.code).toBe(1);
    expect(imported.out).toBe("");
    expect(imported.err).toContain(
      `${path.join(dir, "edited.json")} cannot be imported: record 0 is stored as "shop/s2/root" (its chain and id) but holds fqn "shop/dev/root".`,
    );
    expect(imported.err).toContain("Records describe the resources of their own stage, so they are not moved between stages");
    expect(imported.err).toContain('deploy the program with --stage s2 to give stage "s2" resources of its own');
    await expectNothingImported("s2");
  });

  it("refuses an export whose fqns were moved to another stage but whose deps still name the old one", async () => {
    const imported = await importEdited((text) => {
      const doc = JSON.parse(text.replaceAll('"dev"', '"s2"'));
      for (const r of doc.records) r.state.fqn = r.state.fqn.replace("shop/dev/", "shop/s2/");
      return JSON.stringify(doc);
    });
    expect(imported.code).toBe(1);
    expect(imported.err).toContain(`cannot be imported: record shop/s2/backend/db depends on "shop/dev/root", which is not a record of stage shop/s2.`);
    await expectNothingImported("s2");
  });

  it("refuses a record whose chain puts it in another scope than its fqn, and a place given twice", async () => {
    const moved = await importEdited((text) => {
      const doc = JSON.parse(text);
      doc.stage = "s3";
      for (const r of doc.records) {
        r.chain[1] = "s3";
        r.state.fqn = r.state.fqn.replace("shop/dev/", "shop/s3/");
        r.state.deps = r.state.deps.map((d: string) => d.replace("shop/dev/", "shop/s3/"));
      }
      doc.records[2].chain = ["shop", "s3", "backend"];
      return JSON.stringify(doc);
    });
    expect(moved.code).toBe(1);
    expect(moved.err).toContain(`record 2 is stored as "shop/s3/backend/cache" (its chain and id) but holds fqn "shop/s3/backend/deep/cache".`);
    await expectNothingImported("s3");
    const twice = await importEdited((text) => {
      const doc = JSON.parse(text);
      doc.records.push(doc.records[0]);
      return JSON.stringify(doc);
    });
    expect(twice.code).toBe(1);
    expect(twice.err).toContain(`record 3 is stored as "shop/dev/root", like record 0; an export holds each record once.`);
  });
});
