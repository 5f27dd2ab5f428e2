import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTestProject } from "../test-project.test-fixture.js";
import { isSecret, ResourceError, SecretError, type AlchemyOptions } from "alchemy";
import { File } from "alchemy/fs";
import { RandomString, type RandomStringProps } from "alchemy/random";

const project = useTestProject("alchemy-random-");
const { record, actions } = project;
const password = "random test password";

/** A run with the password a secret RandomString needs. */
const deploy = <T>(program: () => Promise<T>, options: AlchemyOptions = {}) => project.deploy(program, { password, ...options });
/** The drawn string of a RandomString, secret or not. */
const text = (value: unknown): string => (isSecret(value) ? value.unwrap() : (value as string));
const generate = async (props?: RandomStringProps) => {
  const { result } = await deploy(() => RandomString("r", props));
  return { ...result, value: text(result.value) };
};

describe("random::RandomString", () => {
  it("generates 32 alphanumeric characters by default, as a secret recorded only encrypted", async () => {
    const { result } = await deploy(() => RandomString("token"));
    expect(isSecret(result.value)).toBe(true);
    const value = result.value.unwrap();
    expect(value).toMatch(/^[A-Za-z0-9]{32}$/);
    expect({ ...result, value }).toEqual({ value, length: 32, charset: "alphanumeric" });
    expect(JSON.stringify(result)).toBe('{"value":"[secret]","length":32,"charset":"alphanumeric"}');
    const stored = await record("token");
    expect(stored).toMatchObject({
      status: "created",
      props: { secret: true },
      output: { value: { "@secret": expect.stringMatching(/^v1\./) }, length: 32, charset: "alphanumeric" },
    });
    expect(await readFile(path.join(project.root, ".alchemy", "test-app", "t", "token.json"), "utf8")).not.toContain(value);
  });

  it("keeps the same value across runs without calling its handler", async () => {
    const first = await deploy(() => RandomString("token", { length: 20 }));
    const second = await deploy(() => RandomString("token", { length: 20 }));
    expect(second.result.value.unwrap()).toBe(first.result.value.unwrap());
    expect(actions(second.app, "test-app/t/token")).toEqual(["noop"]);
  });

  it("with `secret: false`, gives and records the value as a plain string, and needs no password", async () => {
    const { result } = await project.deploy(() => RandomString("suffix", { length: 8, secret: false }));
    expect(result.value).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(await record("suffix")).toMatchObject({ props: { length: 8, secret: false }, output: { value: result.value } });
  });

  it("refuses to deploy a secret one without a password, before anything is recorded, saying how to fix it", async () => {
    const error = await project.deploy(() => RandomString("token")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect((error as SecretError).reason).toBe("no-password");
    expect((error as Error).message).toContain('RandomString "test-app/t/token" is a secret (the default)');
    expect((error as Error).message).toContain("ALCHEMY_PASSWORD");
    expect((error as Error).message).toContain("`secret: false`");
    expect(await record("token")).toBeUndefined();
  });

  it("keeps the value when `secret` changes: only how it is stored changes", async () => {
    const first = await deploy(() => RandomString("token", { length: 20 }));
    const value = first.result.value.unwrap();
    const plain = await deploy(() => RandomString("token", { length: 20, secret: false }));
    expect(actions(plain.app, "test-app/t/token")).toEqual(["update"]);
    expect(plain.result.value).toBe(value);
    expect((await record("token"))?.output).toEqual({ value, length: 20, charset: "alphanumeric" });
    const sealed = await deploy(() => RandomString("token", { length: 20, secret: true }));
    expect(sealed.result.value.unwrap()).toBe(value);
    expect(JSON.stringify(await record("token"))).not.toContain(value);
  });

  it("seals the plain value of a record written before `secret` existed on the next deploy, without regenerating it", async () => {
    // The record as earlier versions wrote it: no `secret` prop, the value in plain text.
    const value = "5MR9jEnIpaV5aODj3FuxBXYX";
    const file = path.join(project.root, ".alchemy", "test-app", "t", "token.json");
    await mkdir(path.dirname(file), { recursive: true });
    const old = {
      status: "created", kind: "random::RandomString", id: "token", fqn: "test-app/t/token", seq: 2, data: {},
      props: { length: 24 }, output: { value, length: 24, charset: "alphanumeric" }, deps: [],
    };
    await writeFile(file, JSON.stringify(old));
    const program = () => RandomString("token", { length: 24 });

    const refused = await project.deploy(program).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SecretError);
    expect(await record("token")).toMatchObject({ props: { length: 24 }, output: { value } });

    const plan = await deploy(program, { phase: "plan" });
    expect(plan.app.plan.find((e) => e.fqn === "test-app/t/token")).toMatchObject({
      action: "update",
      changes: [{ path: "secret", before: undefined, after: true }],
    });

    const migrated = await deploy(program);
    expect(actions(migrated.app, "test-app/t/token")).toEqual(["update"]);
    expect(migrated.result.value.unwrap()).toBe(value);
    expect(await readFile(file, "utf8")).not.toContain(value);
    expect(await record("token")).toMatchObject({ status: "updated", props: { length: 24, secret: true } });

    const again = await deploy(program);
    expect(actions(again.app, "test-app/t/token")).toEqual(["noop"]);
    expect(again.result.value.unwrap()).toBe(value);
  });

  it("once made secret, is sealed in the records of resources that embed it too, with the same value", async () => {
    const program = (secret: boolean) => async () => {
      const token = await RandomString("token", { length: 24, secret });
      await File("config", { path: "config.json", json: { token } });
      return token;
    };
    const plain = await deploy(program(false));
    const value = plain.result.value as string;
    expect(JSON.stringify(await record("config"))).toContain(value);
    const sealed = await deploy(program(true));
    expect(actions(sealed.app, "test-app/t/config")).toEqual(["update"]);
    expect(JSON.stringify(await record("config"))).not.toContain(value);
    expect(JSON.parse(await readFile(path.join(project.root, "config.json"), "utf8")).token.value).toBe(value);
  });

  it("shows a secret value as [secret] in the read phase", async () => {
    const { result } = await deploy(() => RandomString("token"));
    const read = await deploy(() => RandomString("token"), { phase: "read" });
    expect(read.result.value.unwrap()).toBe(result.value.unwrap());
    const event = read.app.events.find((e) => e.fqn === "test-app/t/token" && e.action === "read");
    expect(JSON.stringify(event?.output)).toBe('{"value":"[secret]","length":32,"charset":"alphanumeric"}');
  });

  it("rejects a `secret` that is not a boolean", async () => {
    const error = await generate({ secret: "yes" as unknown as boolean }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceError);
    expect((error as Error).message).toContain('RandomString test-app/t/r has secret "yes"; use true (the default) or false.');
  });

  it("regenerates the value when its length or charset changes", async () => {
    const first = await deploy(() => RandomString("token", { length: 20 }));
    const longer = await deploy(() => RandomString("token", { length: 40 }));
    expect(actions(longer.app, "test-app/t/token")).toEqual(["update"]);
    expect(longer.result.value.unwrap()).toHaveLength(40);
    expect(longer.result.value.unwrap().startsWith(first.result.value.unwrap())).toBe(false);
    const hex = await deploy(() => RandomString("token", { length: 40, charset: "hex" }));
    expect(hex.result.value.unwrap()).toMatch(/^[0-9a-f]{40}$/);
    expect(hex.result.value.unwrap()).not.toBe(longer.result.value.unwrap());
  });

  it("keeps the value when props only spell out the defaults", async () => {
    const first = await deploy(() => RandomString("token"));
    const second = await deploy(() => RandomString("token", { length: 32, charset: "alphanumeric", secret: true }));
    expect(second.result.value.unwrap()).toBe(first.result.value.unwrap());
  });

  it("draws only from the named or custom alphabet", async () => {
    expect((await generate({ length: 300, charset: "hex" })).value).toMatch(/^[0-9a-f]{300}$/);
    expect((await generate({ length: 300, charset: "base64url" })).value).toMatch(/^[A-Za-z0-9_-]{300}$/);
    const pin = await generate({ length: 6, charset: "0123456789" });
    expect(pin).toMatchObject({ length: 6, charset: "0123456789" });
    expect(pin.value).toMatch(/^\d{6}$/);
    expect(Array.from((await generate({ length: 50, charset: "αβγ" })).value).every((c) => "αβγ".includes(c))).toBe(true);
  });

  it("draws every character of an alphabet about equally often", async () => {
    // 4096 draws from 3 symbols: each count is 1365 ± 30 (one standard deviation);
    // the bounds are more than 6 deviations wide, so a fair generator never fails.
    const { value } = await generate({ length: 4096, charset: "abc" });
    for (const c of "abc") {
      const count = value.split(c).length - 1;
      expect(count).toBeGreaterThan(1165);
      expect(count).toBeLessThan(1565);
    }
  });

  it("rejects a length that is not a whole number from 1 to 4096 with an error that says so", async () => {
    for (const length of [0, 4097, 1.5, -3, "8" as unknown as number]) {
      const error = await generate({ length }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResourceError);
      expect((error as Error).message).toContain("test-app/t/r");
      expect((error as Error).message).toContain("1 to 4096");
    }
    // NaN cannot be stored as props, so the engine refuses it before the handler runs.
    const error = await generate({ length: Number.NaN }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceError);
    expect((error as Error).message).toContain('Props of "test-app/t/r" cannot be stored: props.length is NaN');
  });

  it("rejects a custom alphabet with fewer than two characters or a repeated one", async () => {
    for (const charset of ["", "a", "aab"]) {
      const error = await generate({ charset }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResourceError);
      expect((error as Error).message).toContain("without repeats");
    }
  });

  it("is forgotten at finalize once the program no longer declares it", async () => {
    await deploy(() => RandomString("token"));
    const { app } = await deploy(async () => {});
    expect(actions(app, "test-app/t/token")).toEqual(["delete"]);
    expect(await record("token")).toBeUndefined();
  });

  it("resolves to the recorded value in the destroy phase, then is destroyed", async () => {
    const first = await deploy(() => RandomString("token"));
    const destroyed = await deploy(() => RandomString("token"), { phase: "destroy" });
    expect(destroyed.result.value.unwrap()).toBe(first.result.value.unwrap());
    expect(await record("token")).toBeUndefined();
  });
});
