import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { open, openKey, type DerivedKey } from "../../core/secrets/secret-box.js";
import { associatedData } from "../../core/secrets/secret-codec.js";
import type { SecretsMeta } from "../../core/secrets/stage-secrets.js";
import { FileSystemStateStore } from "../../state/fs/fs-state-store.js";
import { StoreSession, readStage } from "../../state/stage-copy.js";
import { makeProject, removeProject, runAlchemy, startAlchemy } from "../cli.test-fixture.js";

const PROGRAM = `
import alchemy, { Resource, type Secret } from "alchemy";
const Vault = Resource("test::Vault", async function (id: string, props: { key: Secret }) {
  if (this.phase === "delete") return this.destroy();
  return { sealed: props.key };
});
const app = await alchemy("vault");
await alchemy.run("nested", async () => {
  await Promise.all(Array.from({ length: 100 }, (_, i) => Vault("n" + i, { key: alchemy.secret("value-" + i) })));
});
await Promise.all(Array.from({ length: 100 }, (_, i) => Vault("v" + i, { key: alchemy.secret("value-" + i) })));
await app.finalize();
`;

/** Rekeys killed at a random moment (or finishing first), each followed by the checks and a rerun. */
const TRIALS = 10;

const projects: string[] = [];
afterEach(() => projects.splice(0).forEach(removeProject));

/** fqn and field of every sealed value that neither password opens. */
async function undecryptable(dir: string, passwords: string[]): Promise<string[]> {
  const session = new StoreSession((scope) => new FileSystemStateStore(scope, { dir: path.join(dir, ".alchemy") }));
  try {
    const stage = await session.open(["vault", "dev"]);
    const meta = (await stage.getStageMeta!())!.secrets as SecretsMeta;
    const keys: DerivedKey[] = [];
    for (const record of meta.keys) {
      for (const password of passwords) {
        const key = await openKey(password, record, "vault/dev");
        if (key) keys.push(key);
      }
    }
    const bad: string[] = [];
    for (const { state } of await readStage(session, "vault", "dev")) {
      for (const [field, value] of [["props.key", (state.props as { key: unknown }).key], ["output.sealed", (state.output as { sealed: unknown }).sealed]] as const) {
        const envelope = (value as { "@secret"?: string })["@secret"];
        if (envelope === undefined || !keys.some((k) => open(k, envelope, associatedData(state.fqn, field)) !== undefined)) bad.push(`${state.fqn} ${field}`);
      }
    }
    return bad;
  } finally {
    await session.close();
  }
}

describe("alchemy state rekey", () => {
  it(`moves every secret to the new password; killed at random points in ${TRIALS} trials, every record still opens with the old or the new one, and a rerun finishes`, { timeout: 300_000 }, async () => {
    const dir = makeProject({ "alchemy.run.ts": PROGRAM });
    projects.push(dir);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir, { ALCHEMY_PASSWORD: "pw-0" })).code).toBe(0);
    let killedMidway = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const [from, to] = [`pw-${trial}`, `pw-${trial + 1}`];
      const env = { ALCHEMY_PASSWORD: from, ALCHEMY_NEW_PASSWORD: to };
      const { child, done } = startAlchemy(["state", "rekey", "--stage", "dev", "--app", "vault"], dir, env);
      setTimeout(() => child.kill("SIGKILL"), 400 + Math.random() * 900);
      const result = await done;
      if (result.signal === "SIGKILL") killedMidway++;
      else expect(result.code, result.stderr).toBe(0);
      expect(await undecryptable(dir, [from, to]), `trial ${trial}`).toEqual([]);
      const rerun = await runAlchemy(["state", "rekey", "--stage", "dev", "--app", "vault"], dir, env);
      expect(rerun.code, rerun.stderr + rerun.stdout).toBe(0);
      expect(await undecryptable(dir, [to]), `trial ${trial} after the rerun`).toEqual([]);
    }
    console.log(`rekey: ${killedMidway} of ${TRIALS} runs killed before they finished`);
    expect(killedMidway).toBeGreaterThan(0);
    const deploy = await runAlchemy(["deploy", "--stage", "dev"], dir, { ALCHEMY_PASSWORD: `pw-${TRIALS}` });
    expect(deploy.stdout).toMatch(/No changes: 200 unchanged/);
  });

  it("refuses a wrong old password and changes nothing", async () => {
    const dir = makeProject({ "alchemy.run.ts": PROGRAM });
    projects.push(dir);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir, { ALCHEMY_PASSWORD: "right" })).code).toBe(0);
    const wrong = await runAlchemy(["state", "rekey", "--stage", "dev", "--app", "vault"], dir, { ALCHEMY_PASSWORD: "wrong", ALCHEMY_NEW_PASSWORD: "new" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`Wrong password for the secrets of stage "dev"`);
    expect(await undecryptable(dir, ["right"])).toEqual([]);
  });
});
