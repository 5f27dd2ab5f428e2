import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import alchemy, { Resource, type Context } from "alchemy";
import type { HistoryEntry } from "../../history/history-entry.js";
import { captureIO } from "../io.test-fixture.js";
import { runCli } from "../program.js";

interface ThingProps {
  size?: number;
  token?: unknown;
  children?: string[];
}
const Thing = Resource("cli-history::Thing", async function (this: Context<{ name: string }, ThingProps>, id: string, props: ThingProps) {
  if (this.phase === "delete") return this.destroy();
  for (const child of props.children ?? []) await Thing(child, {});
  return { name: id };
});

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "alchemy-cli-history-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const PASSWORD = "history-test-password";

async function deploy(program: () => Promise<unknown>, stage = "dev"): Promise<void> {
  const app = await alchemy("shop", { stage, rootDir: dir, quiet: true, password: PASSWORD });
  await program();
  await app.finalize();
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO(dir, { ALCHEMY_PASSWORD: PASSWORD, ...env });
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

async function history(stage = "dev", state = ".alchemy"): Promise<HistoryEntry[]> {
  const { code, out, err } = await cli(["state", "history", "--stage", stage, "--json", "--state", state, "--app", "shop"]);
  expect(code, err).toBe(0);
  return JSON.parse(out) as HistoryEntry[];
}

const exportNow = async (args: string[] = []) => {
  const { code, out, err } = await cli(["state", "export", "--stage", "dev", ...args]);
  expect(code, err).toBe(0);
  return JSON.parse(out) as unknown;
};

describe("alchemy state history", () => {
  it("lists the stage's runs newest first, as text, as JSON, and cut by --limit", async () => {
    await deploy(() => Promise.all([Thing("db", { size: 1 }), Thing("api", {})]));
    await deploy(() => Promise.all([Thing("db", { size: 2 })]));
    const entries = await history();
    expect(entries.map((e) => e.command)).toEqual(["deploy", "deploy"]);
    expect(entries[0]!.resources).toEqual([
      { fqn: "shop/dev/api", kind: "cli-history::Thing", action: "delete", changes: [] },
      { fqn: "shop/dev/db", kind: "cli-history::Thing", action: "update", changes: [{ path: "size", before: 1, after: 2 }] },
    ]);
    const text = await cli(["state", "history", "--stage", "dev"]);
    expect(text.out).toMatch(new RegExp(`^${entries[0]!.run}  \\S+ \\S+  deploy  \\S+@\\S+  ok  \\d+\\.\\ds  1 deleted, 1 updated\\n  - shop/dev/api\\n  ~ shop/dev/db  size: 1 -> 2\\n`));
    const limited = await cli(["state", "history", "--stage", "dev", "--limit", "1", "--json"]);
    expect((JSON.parse(limited.out) as HistoryEntry[]).map((e) => e.run)).toEqual([entries[0]!.run]);
    expect((await cli(["state", "history", "--stage", "dev", "--limit", "0"])).code).toBe(2);
  });

  it("gets an entry from state rm and state unprotect, and none from a command that changes nothing", async () => {
    await deploy(() => Promise.all([Thing("db", { children: ["user"] }), Thing("api", {})]));
    expect((await cli(["state", "rm", "shop/dev/db"])).code).toBe(0);
    await deploy(async () => {
      await alchemy.run("guarded", { protect: true }, () => Thing("vault", {}));
      await Thing("api", {});
    });
    expect((await cli(["state", "unprotect", "shop/dev/guarded/vault"])).code).toBe(0);
    expect((await cli(["state", "unprotect", "shop/dev/guarded/vault"])).code).toBe(0); // not protected any more: nothing changes
    const [unprotect, , rm] = await history();
    expect(rm).toMatchObject({ command: "state rm", outcome: "ok", resources: [{ fqn: "shop/dev/db", action: "delete" }, { fqn: "shop/dev/db/user", action: "delete" }] });
    expect(unprotect).toMatchObject({ command: "state unprotect", resources: [{ fqn: "shop/dev/guarded/vault", action: "update", changes: [] }] });
    expect(await history()).toHaveLength(4);
  });

  it("exports, with --at, exactly what state export gave after each run, reading only", async () => {
    const exports: unknown[] = [];
    await deploy(() => Promise.all([Thing("db", { size: 1, children: ["user"] }), Thing("api", {})]));
    exports.push(await exportNow());
    await deploy(() => Promise.all([Thing("db", { size: 2, children: ["user"] })]));
    exports.push(await exportNow());
    await cli(["state", "rm", "shop/dev/db/user"]);
    exports.push(await exportNow());
    await deploy(() => Promise.all([Thing("db", { size: 3 }), Thing("web", { token: alchemy.secret("tok-value") })]));
    exports.push(await exportNow());
    const runs = (await history()).map((e) => e.run).reverse();
    expect(runs).toHaveLength(4);
    const sorted = (doc: unknown) => {
      const d = doc as { records: { state: { fqn: string } }[] };
      return { ...d, records: [...d.records].sort((a, b) => (a.state.fqn < b.state.fqn ? -1 : 1)) };
    };
    for (const [i, run] of runs.entries()) expect(sorted(await exportNow(["--at", run]))).toEqual(sorted(exports[i]));
    const shown = await cli(["state", "show", "shop/dev/db", "--at", runs[1]!]);
    expect(JSON.parse(shown.out)).toMatchObject({ props: { size: 2 } });
    const gone = await cli(["state", "show", "shop/dev/db/user", "--at", runs[2]!]);
    expect(gone.code).toBe(1);
    const unknown = await cli(["state", "export", "--stage", "dev", "--at", "20200101T000000000Z-0000"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/has no run "20200101T000000000Z-0000".*keeps 4 run\(s\)/);
    expect(await history()).toHaveLength(4); // reading wrote nothing
  });

  it("gets an entry in the target from state import and state migrate", async () => {
    await deploy(() => Promise.all([Thing("db", { size: 1 })]));
    const file = path.join(dir, "dev.json");
    expect((await cli(["state", "export", "--stage", "dev", "-o", file])).code).toBe(0);
    const doc = JSON.parse(fs.readFileSync(file, "utf8"));
    fs.writeFileSync(file, JSON.stringify({ ...doc, stage: "copy", records: doc.records.map((r: { chain: string[]; state: { fqn: string } }) => ({ chain: ["shop", "copy"], state: { ...r.state, fqn: r.state.fqn.replace("/dev/", "/copy/") } })) }));
    const imported = await cli(["state", "import", file]);
    expect(imported.code, imported.err).toBe(0);
    expect(await history("copy")).toMatchObject([{ command: "state import", resources: [{ fqn: "shop/copy/db", action: "create" }] }]);
    const migrated = await cli(["state", "migrate", "--stage", "dev", "--to", "sqlite:state.sqlite"]);
    expect(migrated.code, migrated.err).toBe(0);
    expect(await history("dev", "sqlite:state.sqlite")).toMatchObject([{ command: "state migrate", resources: [{ fqn: "shop/dev/db", action: "create" }] }]);
  });

  it("gets an entry from state rekey, showing secrets as [secret] and never a value or ciphertext", async () => {
    await deploy(() => Promise.all([Thing("web", { token: alchemy.secret("tok-s3cret-value") })]));
    const rekeyed = await cli(["state", "rekey", "--stage", "dev"], { ALCHEMY_NEW_PASSWORD: "the-new-password" });
    expect(rekeyed.code, rekeyed.err).toBe(0);
    const entries = await history();
    expect(entries[0]).toMatchObject({ command: "state rekey", resources: [{ fqn: "shop/dev/web", action: "update", changes: [{ path: "token", before: "[secret]", after: "[secret]" }] }] });
    const text = JSON.stringify(entries) + (await cli(["state", "history", "--stage", "dev"])).out;
    expect(text).not.toMatch(/s3cret-value|@secret|v1:/);
  });
});
