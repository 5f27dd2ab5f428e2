import { describe, expect, it } from "vitest";
import { useTestProject } from "../test-project.test-fixture.js";
import { ResourceError } from "alchemy";
import { RandomString, type RandomStringProps } from "alchemy/random";

const project = useTestProject("alchemy-random-");
const { deploy, record, actions } = project;

const generate = async (props?: RandomStringProps) => (await deploy(() => RandomString("r", props))).result;

describe("random::RandomString", () => {
  it("generates 32 alphanumeric characters by default and records them", async () => {
    const { result } = await deploy(() => RandomString("token"));
    expect(result.value).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(result).toEqual({ value: result.value, length: 32, charset: "alphanumeric" });
    expect(await record("token")).toMatchObject({ status: "created", output: result });
  });

  it("keeps the same value across runs without calling its handler", async () => {
    const first = await deploy(() => RandomString("token", { length: 20 }));
    const second = await deploy(() => RandomString("token", { length: 20 }));
    expect(second.result.value).toBe(first.result.value);
    expect(actions(second.app, "test-app/t/token")).toEqual(["noop"]);
  });

  it("regenerates the value when its length or charset changes", async () => {
    const first = await deploy(() => RandomString("token", { length: 20 }));
    const longer = await deploy(() => RandomString("token", { length: 40 }));
    expect(actions(longer.app, "test-app/t/token")).toEqual(["update"]);
    expect(longer.result.value).toHaveLength(40);
    expect(longer.result.value.startsWith(first.result.value)).toBe(false);
    const hex = await deploy(() => RandomString("token", { length: 40, charset: "hex" }));
    expect(hex.result.value).toMatch(/^[0-9a-f]{40}$/);
    expect(hex.result.value).not.toBe(longer.result.value);
  });

  it("keeps the value when props only spell out the defaults", async () => {
    const first = await deploy(() => RandomString("token"));
    const second = await deploy(() => RandomString("token", { length: 32, charset: "alphanumeric" }));
    expect(second.result.value).toBe(first.result.value);
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
    expect(destroyed.result.value).toBe(first.result.value);
    expect(await record("token")).toBeUndefined();
  });
});
