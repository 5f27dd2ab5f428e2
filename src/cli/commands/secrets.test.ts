import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeProject, removeProject, runAlchemy } from "../cli.test-fixture.js";

const VAULT = `
import alchemy, { Resource, type Secret } from "alchemy";
const Vault = Resource("test::Vault", async function (id: string, props: { key: Secret; n: number }) {
  if (this.phase === "delete") return this.destroy();
  if (props.n < 0) throw new Error("vault " + id + " refused its key");
  return { fingerprint: props.key.unwrap().length, echo: props.key };
});
const app = await alchemy("vault");
const round = Number(process.env.ROUND ?? "1");
const count = Number(process.env.COUNT ?? "1000");
const all = [];
for (let i = 0; i < count; i++) all.push(Vault("v" + i, { key: alchemy.secret("canary-" + round + "-" + i + "-zq"), n: Number(process.env.N ?? "1") }));
const outputs = await Promise.all(all);
console.log("program sees", String(outputs[0].echo), JSON.stringify(outputs[0]));
await app.finalize();
`;

const projects: string[] = [];
afterEach(() => projects.splice(0).forEach(removeProject));

/** Every byte under `dir`, as one string. */
function everything(dir: string): string {
  let text = "";
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else text += readFileSync(p, "latin1");
    }
  };
  walk(dir);
  return text;
}

describe("secrets through the command line", () => {
  it("deploys and updates 1,000 canary secrets with no plaintext anywhere: state, output, --json, plan, logs, errors", { timeout: 120_000 }, async () => {
    const dir = makeProject({ "alchemy.run.ts": VAULT });
    projects.push(dir);
    const env = { ALCHEMY_PASSWORD: "correct horse battery" };
    const seen: string[] = [];
    const run = async (args: string[], extra: NodeJS.ProcessEnv = {}) => {
      const result = await runAlchemy(args, dir, { ...env, ...extra });
      seen.push(result.stdout, result.stderr);
      return result;
    };
    const first = await run(["deploy", "--stage", "dev"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/created 1000/);
    expect(first.stdout).toContain(`program sees [secret] {"fingerprint":`);
    const plan = await run(["plan", "--stage", "dev", "--json"], { ROUND: "2" });
    const planned = JSON.parse(plan.stdout).resources[0];
    expect(planned.changes).toEqual([{ path: "key", before: "[secret]", after: "[secret]" }]);
    const updated = await run(["deploy", "--stage", "dev", "--json"], { ROUND: "2" });
    expect(JSON.parse(updated.stdout).summary).toMatchObject({ updated: 1000 });
    const failed = await run(["deploy", "--stage", "dev"], { ROUND: "3", N: "-1", COUNT: "3" });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("vault v0 refused its key");
    const read = await run(["read", "--stage", "dev", "--json"], { ROUND: "2" });
    expect(JSON.parse(read.stdout).resources[0].output).toEqual({ fingerprint: 13, echo: "[secret]" });

    expect(seen.join("\n")).not.toContain("canary-");
    expect(everything(path.join(dir, ".alchemy"))).not.toContain("canary-");
  });

  it("fails a wrong password before any handler runs, naming the stage, and changes nothing", async () => {
    const dir = makeProject({ "alchemy.run.ts": VAULT });
    projects.push(dir);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir, { ALCHEMY_PASSWORD: "right", COUNT: "3" })).code).toBe(0);
    const before = everything(path.join(dir, ".alchemy"));
    const wrong = await runAlchemy(["deploy", "--stage", "dev"], dir, { ALCHEMY_PASSWORD: "wrong", COUNT: "3", ROUND: "2" });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain(`Wrong password for the secrets of stage "dev" (vault/dev)`);
    expect(everything(path.join(dir, ".alchemy"))).toBe(before);
    const none = await runAlchemy(["deploy", "--stage", "dev"], dir, { COUNT: "3" });
    expect(none.code).toBe(1);
    expect(none.stdout).toContain(`"vault/dev/v0" holds an encrypted secret at props.key, but no password was given for stage "dev"`);
  });
});
