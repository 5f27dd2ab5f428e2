import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import alchemy, { Resource, Secret, SecretError } from "alchemy";
import { tempDir } from "../world.test-fixture.js";
import { keyDerivations } from "./secret-box.js";

/** Every file under `dir`, with its bytes. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(path.relative(dir, p), readFileSync(p, "latin1"));
    }
  };
  walk(dir);
  return out;
}

const calls: { phase: string; id: string; password?: string }[] = [];
const Db = Resource("test::Db", async function (id: string, props: { user: string; password: Secret }) {
  calls.push({ phase: this.phase, id, password: this.phase === "delete" ? undefined : props.password.unwrap() });
  if (this.phase === "delete") return this.destroy();
  return { url: `db://${props.user}@host/${id}`, token: new Secret(`token-for-${props.password.unwrap()}`) };
});

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  dirs.splice(0).forEach((d) => d.remove());
  calls.length = 0;
});
const project = () => {
  const tmp = tempDir("alchemy-secrets-");
  dirs.push(tmp);
  return tmp.dir;
};

async function deploy(dir: string, password: string | undefined, secrets: Record<string, string>) {
  const app = await alchemy("app", { stage: "dev", rootDir: dir, quiet: true, password });
  const outputs: Record<string, { token: Secret }> = {};
  try {
    await alchemy.run("data", async () => {
      for (const [id, value] of Object.entries(secrets)) outputs[id] = (await Db(id, { user: "admin", password: alchemy.secret(value) })) as { token: Secret };
    });
  } catch (error) {
    await app.release(); // as the CLI does: stores closed, lock let go, nothing deleted
    throw error;
  }
  await app.finalize();
  return { app, outputs };
}

describe("secrets in a deployment", () => {
  it("stores no plaintext, skips unchanged secrets, updates changed ones and gives handlers and the program Secret values", async () => {
    const dir = project();
    const { outputs } = await deploy(dir, "pw-1", { a: "canary-a-111", b: "canary-b-222" });
    expect(outputs.a!.token).toBeInstanceOf(Secret);
    expect(outputs.a!.token.unwrap()).toBe("token-for-canary-a-111");
    expect(calls.map((c) => [c.phase, c.id, c.password])).toEqual([["create", "a", "canary-a-111"], ["create", "b", "canary-b-222"]]);
    for (const [file, bytes] of tree(path.join(dir, ".alchemy"))) expect(bytes, file).not.toMatch(/canary|token-for/);

    calls.length = 0;
    const again = await deploy(dir, "pw-1", { a: "canary-a-111", b: "canary-b-333" });
    expect(calls.map((c) => [c.phase, c.id, c.password])).toEqual([["update", "b", "canary-b-333"]]);
    expect(again.app.summary).toMatchObject({ updated: 1, unchanged: 1 });
    for (const [file, bytes] of tree(path.join(dir, ".alchemy"))) expect(bytes, file).not.toMatch(/canary|token-for/);
  });

  it("refuses alchemy.secret() without a password before any resource is created", async () => {
    const dir = project();
    await expect(deploy(dir, undefined, { a: "canary-a" })).rejects.toThrow(SecretError);
    await expect(deploy(dir, undefined, { a: "canary-a" })).rejects.toThrow(/without a password.*Set ALCHEMY_PASSWORD/);
    expect(calls).toEqual([]);
  });

  it("fails a wrong password before any handler runs, naming the stage and the first encrypted value, and leaves the state byte-identical", async () => {
    const dir = project();
    await deploy(dir, "right", { a: "canary-a" });
    const before = tree(path.join(dir, ".alchemy"));
    calls.length = 0;
    const error = await deploy(dir, "wrong", { a: "canary-a" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toContain(`Wrong password for the secrets of stage "dev" (app/dev)`);
    expect(calls).toEqual([]);
    const after = tree(path.join(dir, ".alchemy"));
    expect([...after.keys()].filter((k) => !k.endsWith("~lock")).sort()).toEqual([...before.keys()].filter((k) => !k.endsWith("~lock")).sort());
    for (const [file, bytes] of before) if (!file.endsWith("~lock")) expect(after.get(file), file).toBe(bytes);
  });

  it("derives the key once per run however many secrets it seals and opens", async () => {
    const dir = project();
    const secrets = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`r${i}`, `canary-${i}`]));
    const first = keyDerivations();
    await deploy(dir, "pw", secrets);
    expect(keyDerivations() - first).toBe(1);
    const second = keyDerivations();
    await deploy(dir, "pw", { ...secrets, r0: "changed" });
    expect(keyDerivations() - second).toBe(1);
  });
});

describe("tampered secrets", () => {
  it("refuses a ciphertext moved to another record, naming the record and field, and changes nothing", async () => {
    const dir = project();
    await deploy(dir, "pw", { a: "canary-a", b: "canary-b" });
    const fileA = path.join(dir, ".alchemy/app/dev/data/a.json");
    const fileB = path.join(dir, ".alchemy/app/dev/data/b.json");
    const a = JSON.parse(readFileSync(fileA, "utf8"));
    const b = JSON.parse(readFileSync(fileB, "utf8"));
    b.props.password = a.props.password;
    writeFileSync(fileB, JSON.stringify(b, null, 2));
    calls.length = 0;
    const error = await deploy(dir, "pw", { a: "canary-a", b: "canary-b" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toContain(`Cannot decrypt props.password of "app/dev/data/b"`);
    expect(calls).toEqual([]);
    expect(JSON.parse(readFileSync(fileB, "utf8"))).toEqual(b);
  });
});
