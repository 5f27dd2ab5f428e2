import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import alchemy, { Resource, Secret, SecretError, type StateStoreFactory } from "alchemy";
import { SQLiteStateStore } from "../../state/sqlite/sqlite-state-store.js";
import { tempDir } from "../world.test-fixture.js";

const Token = Resource("test::StageSecretsToken", async function (_id: string, props: { value: Secret }) {
  if (this.phase === "delete") return this.destroy();
  return { length: props.value.unwrap().length };
});

const dirs: { remove: () => void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

describe("a stage whose secrets key is no longer in its metadata", () => {
  it("says the key is gone and no password can open the value, instead of blaming the password", async () => {
    const tmp = tempDir("alchemy-stage-secrets-");
    dirs.push(tmp);
    const stateStore: StateStoreFactory = (scope) => new SQLiteStateStore(scope, { filename: path.join(tmp.dir, "state.sqlite") });
    const deploy = async () => {
      const app = await alchemy("app", { stage: "dev", rootDir: tmp.dir, quiet: true, password: "pw", stateStore });
      try {
        await Token("t", { value: alchemy.secret("s3cret") });
      } finally {
        await app.release();
      }
    };
    await deploy();
    const stageStore = stateStore({ chain: ["app", "dev"] });
    await stageStore.init?.();
    await stageStore.deleteStageMeta!();
    await stageStore.deinit?.();

    const error = await deploy().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toMatch(
      /Cannot decrypt props\.value of "app\/dev\/t": it was sealed with key \w+, which stage "dev" no longer records in its metadata, so no password opens it\./,
    );
  });
});
