import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import alchemy, { Resource, Secret, SecretError, type StateStoreFactory } from "alchemy";
import { SQLiteStateStore } from "../../state/sqlite/sqlite-state-store.js";
import { tempDir } from "../world.test-fixture.js";
import { rekeyStage } from "./rekey.js";

const Token = Resource("test::RekeyNestedToken", async function (_id: string, props: { value: Secret }) {
  if (this.phase === "delete") return this.destroy();
  return { length: props.value.unwrap().length };
});

const dirs: { remove: () => void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

describe("re-keying a stage with a nested scope on another store", () => {
  it("is refused before anything changes, naming the nested scope, because its secrets would no longer open", async () => {
    const tmp = tempDir("alchemy-rekey-nested-");
    dirs.push(tmp);
    const stageStores: StateStoreFactory = (scope) => new SQLiteStateStore(scope, { filename: path.join(tmp.dir, "stage.sqlite") });
    const vaultStores: StateStoreFactory = (scope) => new SQLiteStateStore(scope, { filename: path.join(tmp.dir, "vault.sqlite") });
    const app = await alchemy("app", { stage: "dev", rootDir: tmp.dir, quiet: true, password: "old", stateStore: stageStores });
    await Token("a", { value: alchemy.secret("in the stage") });
    await alchemy.run("vault", { stateStore: vaultStores }, async () => {
      await Token("b", { value: alchemy.secret("in the vault") });
    });
    await app.finalize();

    const stageStore = stageStores({ chain: ["app", "dev"] });
    await stageStore.init?.();
    try {
      const before = await stageStore.getStageMeta!();
      const error = await rekeyStage(stageStores, stageStore, "app/dev", "old", "new").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SecretError);
      expect((error as Error).message).toMatch(/Stage "dev" \(app\/dev\) keeps records in nested scopes on other state stores \(vault\).*Nothing was changed/);
      expect(await stageStore.getStageMeta!()).toEqual(before);
    } finally {
      await stageStore.deinit?.();
    }
  });
});
