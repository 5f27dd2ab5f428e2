import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import alchemy, { Resource, type Context } from "alchemy";
import { File } from "alchemy/fs";
import { UsageError } from "../exit-codes.js";
import { captureIO } from "../io.test-fixture.js";
import { runCli } from "../program.js";
import { stateList, stateRm, stateShow, type StateListEntry } from "./state.js";
import { listStages, type StageSummary } from "./stages.js";

interface ThingProps {
  /** Things this one uses: their outputs make them dependencies. */
  uses?: ThingOutput[];
  /** Things declared inside this one's handler, in its resource scope. */
  children?: string[];
}
interface ThingOutput {
  name: string;
}

/** fqns whose delete handler ran: `state rm` must never add to it. */
const deleted: string[] = [];
const Thing = Resource("cli-state::Thing", async function (this: Context<ThingOutput, ThingProps>, id: string, props: ThingProps) {
  if (this.phase === "delete") {
    deleted.push(this.fqn);
    return this.destroy();
  }
  for (const child of props.children ?? []) await Thing(child, {});
  return { name: id };
});

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-cli-state-"));
  deleted.length = 0;
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** One run of `program` against `app`/`stage`, with state under `<dir>/.alchemy`. */
async function deploy(stage: string, program: () => Promise<unknown>, app = "shop"): Promise<void> {
  const application = await alchemy(app, { stage, rootDir: dir, quiet: true });
  await program();
  await application.finalize();
}

/** The shop: a database with two things in its resource scope, and a backend that uses it. */
async function shop(): Promise<void> {
  const db = await Thing("db", { children: ["user", "schema"] });
  await alchemy.run("backend", async () => {
    await Thing("api", { uses: [db] });
    await File("config", { path: "config.json", content: "{}" });
  });
}

const SHOP_FQNS = ["shop/dev/backend/api", "shop/dev/backend/config", "shop/dev/db", "shop/dev/db/schema", "shop/dev/db/user"];
const opts = { state: ".alchemy" };

async function listJson(stage = "dev"): Promise<StateListEntry[]> {
  const io = captureIO(dir);
  expect(await stateList({ ...opts, stage, json: true }, io)).toBe(0);
  return JSON.parse(io.out()) as StateListEntry[];
}

describe("alchemy state list", () => {
  it("prints one aligned `fqn  kind  status` line per record, nested and resource scopes included, sorted by fqn", async () => {
    await deploy("dev", shop);
    const io = captureIO(dir);
    expect(await stateList({ ...opts, stage: "dev", json: false }, io)).toBe(0);
    const lines = io.out().trimEnd().split("\n");
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(SHOP_FQNS);
    expect(lines[0]).toMatch(/^shop\/dev\/backend\/api {5}cli-state::Thing {2}created$/);
    expect(lines[1]).toMatch(/^shop\/dev\/backend\/config {2}fs::File {10}created$/);
    expect(new Set(lines.map((l) => l.indexOf("created"))).size).toBe(1);
    expect(io.err()).toBe("");
  });

  it("prints a JSON array of fqn, kind, status, id and deps with --json", async () => {
    await deploy("dev", shop);
    const entries = await listJson();
    expect(entries.map((e) => e.fqn)).toEqual(SHOP_FQNS);
    expect(entries[0]).toEqual({ fqn: "shop/dev/backend/api", kind: "cli-state::Thing", status: "created", id: "api", deps: ["shop/dev/db"] });
    expect(entries.find((e) => e.fqn === "shop/dev/db/user")).toMatchObject({ id: "user", deps: [] });
  });

  it("lists only the records of the chosen stage", async () => {
    await deploy("dev", shop);
    await deploy("prod", () => Thing("web", {}));
    expect((await listJson("prod")).map((e) => e.fqn)).toEqual(["shop/prod/web"]);
    expect((await listJson("dev")).map((e) => e.fqn)).toEqual(SHOP_FQNS);
  });

  it("takes the stage from $ALCHEMY_STAGE, then $USER, like the engine", async () => {
    await deploy("prod", () => Thing("web", {}));
    await deploy("ada", () => Thing("scratch", {}));
    const fromStage = captureIO(dir, { ALCHEMY_STAGE: "prod", USER: "ada" });
    await stateList({ ...opts, json: true }, fromStage);
    expect(JSON.parse(fromStage.out())).toMatchObject([{ fqn: "shop/prod/web" }]);
    const fromUser = captureIO(dir, { USER: "ada" });
    await stateList({ ...opts, json: true }, fromUser);
    expect(JSON.parse(fromUser.out())).toMatchObject([{ fqn: "shop/ada/scratch" }]);
  });

  it("says that a stage has no records, naming app, stage, directory and the stages that do", async () => {
    await deploy("prod", () => Thing("web", {}));
    const io = captureIO(dir, { USER: "ada" });
    expect(await stateList({ ...opts, json: false }, io)).toBe(0);
    expect(io.out()).toBe(
      `No resources recorded for app "shop", stage "ada" in ${path.join(dir, ".alchemy")}. ` +
        `Stages with records: prod; choose one with --stage <stage>.\n`,
    );
    const json = captureIO(dir, { USER: "ada" });
    expect(await stateList({ ...opts, json: true }, json)).toBe(0);
    expect(JSON.parse(json.out())).toEqual([]);
  });

  it("rejects a stage that is not a valid name as a usage error", async () => {
    await deploy("dev", shop);
    await expect(stateList({ ...opts, stage: "../etc", json: false }, captureIO(dir))).rejects.toThrow(UsageError);
    await expect(stateList({ ...opts, json: false }, captureIO(dir, { USER: "ada@corp" }))).rejects.toThrow(/"ada@corp" \(from \$USER\).*--stage/);
  });
});

describe("choosing the application", () => {
  it("uses the only application in the state directory, ignoring ~ and . entries", async () => {
    await deploy("dev", shop);
    fs.mkdirSync(path.join(dir, ".alchemy", "~trash"));
    fs.mkdirSync(path.join(dir, ".alchemy", ".cache"));
    expect((await listJson()).length).toBe(5);
  });

  it("asks for --app, naming the directory and the applications, when there are several", async () => {
    await deploy("dev", shop);
    await deploy("dev", () => Thing("web", {}), "blog");
    const attempt = stateList({ ...opts, stage: "dev", json: false }, captureIO(dir));
    await expect(attempt).rejects.toThrow(UsageError);
    await expect(stateList({ ...opts, stage: "dev", json: false }, captureIO(dir))).rejects.toThrow(
      `The state directory ${path.join(dir, ".alchemy")} holds several applications (blog, shop): choose one with --app <name>.`,
    );
    const io = captureIO(dir);
    await stateList({ ...opts, app: "blog", stage: "dev", json: true }, io);
    expect(JSON.parse(io.out())).toMatchObject([{ fqn: "blog/dev/web" }]);
  });

  it("fails with exit 1, naming the directory, when it holds no application", async () => {
    const io = captureIO(dir);
    expect(await listStages({ state: "elsewhere", json: false }, io)).toBe(1);
    expect(io.err()).toMatch(`No application is recorded in the state directory ${path.join(dir, "elsewhere")}`);
    expect(io.err()).toMatch(/--state.*--app/);
  });
});

describe("alchemy state show", () => {
  it("prints the record of a resource in a resource scope as JSON", async () => {
    await deploy("dev", shop);
    const io = captureIO(dir);
    expect(await stateShow("shop/dev/db/user", { ...opts, json: true }, io)).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ fqn: "shop/dev/db/user", id: "user", kind: "cli-state::Thing", status: "created", output: { name: "user" } });
    const plain = captureIO(dir);
    expect(await stateShow("shop/dev/db/user", { ...opts, json: false }, plain)).toBe(0);
    expect(plain.out()).toBe(io.out());
  });

  it("finds the record by the app its fqn names, whatever --app says", async () => {
    await deploy("dev", shop);
    await deploy("dev", () => Thing("web", {}), "blog");
    const io = captureIO(dir);
    expect(await stateShow("blog/dev/web", { ...opts, app: "shop", json: true }, io)).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ fqn: "blog/dev/web" });
  });

  it("fails with exit 1 for an unknown fqn, naming it and where it looked", async () => {
    await deploy("dev", shop);
    const io = captureIO(dir);
    expect(await stateShow("shop/dev/backend/nope", { ...opts, json: false }, io)).toBe(1);
    expect(io.out()).toBe("");
    expect(io.err()).toContain(`No record "shop/dev/backend/nope" in ${path.join(dir, ".alchemy", "shop", "dev", "backend")}`);
    expect(io.err()).toContain("alchemy state list --app shop --stage dev");
  });

  it("rejects an fqn with fewer than three segments or an invalid segment as a usage error", async () => {
    for (const fqn of ["shop/dev", "shop", "shop//db", "shop/dev/../db", "shop/dev/a:b"]) {
      await expect(stateShow(fqn, { ...opts, json: false }, captureIO(dir)), fqn).rejects.toThrow(UsageError);
    }
    await expect(stateShow("shop/dev", { ...opts, json: false }, captureIO(dir))).rejects.toThrow(/app\/stage\/<nested scopes...>\/id/);
  });
});

describe("alchemy state rm", () => {
  it("forgets a resource and its resource scope without calling a delete handler, and warns about what uses it", async () => {
    await deploy("dev", shop);
    const io = captureIO(dir);
    expect(await stateRm("shop/dev/db", opts, io)).toBe(0);
    expect(io.out()).toBe(
      "Forgot 3 records (the resources themselves were not deleted):\n  shop/dev/db\n  shop/dev/db/schema\n  shop/dev/db/user\n",
    );
    expect(deleted).toEqual([]);
    expect((await listJson()).map((e) => e.fqn)).toEqual(["shop/dev/backend/api", "shop/dev/backend/config"]);
    expect(io.err()).toMatch(/^warning: a record still depends on what was forgotten:\n {2}shop\/dev\/backend\/api {2}uses {2}shop\/dev\/db\n/);
    expect(io.err()).toContain("alchemy state rm <fqn>");
  });

  it("leaves the real thing in place, and a later deploy that no longer declares it does not delete it", async () => {
    await deploy("dev", shop);
    const file = path.join(dir, "config.json");
    const io = captureIO(dir);
    expect(await stateRm("shop/dev/backend/config", opts, io)).toBe(0);
    expect(io.out()).toBe("Forgot 1 record (the resources themselves were not deleted):\n  shop/dev/backend/config\n");
    expect(io.err()).toBe("");
    expect(fs.readFileSync(file, "utf8")).toBe("{}");
    await deploy("dev", async () => {
      const db = await Thing("db", { children: ["user", "schema"] });
      await alchemy.run("backend", () => Thing("api", { uses: [db] }));
    });
    expect(fs.existsSync(file)).toBe(true);
    expect(deleted).toEqual([]);
  });

  it("forgets a record that cannot be read, as the error naming it says to: damaged JSON, or a hand-edited fqn claiming another stage", async () => {
    await deploy("dev", shop);
    const stage = path.join(dir, ".alchemy", "shop", "dev");
    const db = JSON.parse(fs.readFileSync(path.join(stage, "db.json"), "utf8"));
    fs.writeFileSync(path.join(stage, "db.json"), JSON.stringify({ ...db, fqn: "shop/prod/db" }));
    fs.writeFileSync(path.join(stage, "backend", "config.json"), '{"status": "crea');
    const refused = captureIO(dir);
    expect(await stateList({ ...opts, stage: "dev", json: true }, refused)).toBe(1);
    expect(refused.err()).toMatch(/holds fqn "shop\/prod\/db"|not valid JSON/);
    for (const fqn of ["shop/dev/db", "shop/dev/backend/config"]) {
      const io = captureIO(dir);
      expect(await stateRm(fqn, opts, io), io.err()).toBe(0);
      expect(io.out()).toContain(fqn);
    }
    expect((await listJson()).map((e) => e.fqn)).toEqual(["shop/dev/backend/api"]);
    expect(deleted).toEqual([]);
  });

  it("fails with exit 1 for an unknown fqn and forgets nothing", async () => {
    await deploy("dev", shop);
    const io = captureIO(dir);
    expect(await stateRm("shop/prod/db", opts, io)).toBe(1);
    expect(io.err()).toContain(`No record "shop/prod/db" in ${path.join(dir, ".alchemy", "shop", "prod")}`);
    expect((await listJson()).length).toBe(5);
  });

  it("rejects an invalid fqn as a usage error", async () => {
    await expect(stateRm("shop/dev", opts, captureIO(dir))).rejects.toThrow(UsageError);
  });
});

describe("alchemy stages", () => {
  it("lists every stage with its resource count, nested scopes included, when it last changed and its last deploy", async () => {
    const before = Date.now();
    await deploy("dev", shop);
    await deploy("prod", () => Thing("web", {}));
    const io = captureIO(dir);
    expect(await listStages({ ...opts, json: true }, io)).toBe(0);
    const stages = JSON.parse(io.out()) as StageSummary[];
    expect(stages.map(({ stage, resources }) => ({ stage, resources }))).toEqual([
      { stage: "dev", resources: 5 },
      { stage: "prod", resources: 1 },
    ]);
    for (const { updatedAt } of stages) {
      const at = Date.parse(updatedAt!);
      expect(at).toBeGreaterThanOrEqual(before - 2_000);
      expect(at).toBeLessThanOrEqual(Date.now() + 2_000);
    }
    const by = `${os.userInfo().username}@${os.hostname()}`;
    for (const { lastDeploy, lock } of stages) {
      expect(lastDeploy).toMatchObject({ by, command: "node (shop program)", ok: true });
      expect(Date.parse(lastDeploy!.at)).toBeGreaterThanOrEqual(before);
      expect(lock).toBeNull();
    }
    const plain = captureIO(dir);
    expect(await listStages({ ...opts, json: false }, plain)).toBe(0);
    expect(plain.out().replace(/\(\ds ago\)/g, "(now)")).toBe(
      `dev   5 resources  deployed ${stages[0]!.lastDeploy!.at} (now) by ${by}\n` +
        `prod  1 resource   deployed ${stages[1]!.lastDeploy!.at} (now) by ${by}\n`,
    );
  });

  it("says so when the application has no stage, naming the applications that do", async () => {
    await deploy("dev", shop);
    const io = captureIO(dir);
    expect(await listStages({ ...opts, app: "blog", json: false }, io)).toBe(0);
    expect(io.out()).toBe(
      `No stages recorded for app "blog" in ${path.join(dir, ".alchemy")}. Applications with state there: shop; choose one with --app <name>.\n`,
    );
    const json = captureIO(dir);
    expect(await listStages({ ...opts, app: "blog", json: true }, json)).toBe(0);
    expect(JSON.parse(json.out())).toEqual([]);
  });

  it("no longer lists a stage whose records were all forgotten", async () => {
    await deploy("dev", shop);
    await deploy("prod", () => Thing("web", {}));
    expect(await stateRm("shop/prod/web", opts, captureIO(dir))).toBe(0);
    const io = captureIO(dir);
    await listStages({ ...opts, json: true }, io);
    expect((JSON.parse(io.out()) as StageSummary[]).map((s) => s.stage)).toEqual(["dev"]);
  });
});

describe("the state commands on the command line", () => {
  it("exit 0 on success, 1 on an unknown fqn and 2 on bad usage, with --state resolved against the working directory", async () => {
    await deploy("dev", shop);
    const list = captureIO(dir);
    expect(await runCli(["state", "list", "--stage", "dev", "--json"], list)).toBe(0);
    expect((JSON.parse(list.out()) as StateListEntry[]).map((e) => e.fqn)).toEqual(SHOP_FQNS);
    const elsewhere = captureIO(os.tmpdir());
    expect(await runCli(["state", "stages", "--state", path.join(dir, ".alchemy"), "--json"], elsewhere)).toBe(0);
    expect(JSON.parse(elsewhere.out())).toMatchObject([{ stage: "dev", resources: 5 }]);
    const unknown = captureIO(dir);
    expect(await runCli(["state", "rm", "shop/dev/nope"], unknown)).toBe(1);
    expect(unknown.err()).toContain('No record "shop/dev/nope"');
    const usage = captureIO(dir);
    expect(await runCli(["state", "show", "shop/dev"], usage)).toBe(2);
    expect(usage.err()).toMatch(/^error: "shop\/dev" is not a resource fqn/);
  });

  it("alchemy unlock exits 0 for a stage that is not locked, or 1 with a --lock-id no lock has", async () => {
    expect(await runCli(["unlock", "--stage", "prod", "--app", "shop"], captureIO(dir))).toBe(0);
    expect(await runCli(["unlock", "--stage", "prod", "--app", "shop", "--lock-id", "x"], captureIO(dir))).toBe(1);
  });
});
