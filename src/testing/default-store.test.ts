import { describe, expect, it } from "vitest";
import { AlchemyError } from "../core/errors.js";
import { FileSystemStateStore } from "../state/fs/fs-state-store.js";
import { SQLiteStateStore } from "../state/sqlite/sqlite-state-store.js";
import { defaultStore } from "./default-store.js";

describe("the default store of a test scope", () => {
  it("is the filesystem store in <cwd>/.alchemy, whose empty directories test scopes remove", () => {
    const store = defaultStore({}, "/project");
    expect(store).toMatchObject({ key: "/project/.alchemy", stateDir: "/project/.alchemy" });
    expect(store.factory({ chain: ["app", "dev"] })).toBeInstanceOf(FileSystemStateStore);
    expect(defaultStore({ ALCHEMY_STATE_STORE: "file:.alchemy" }, "/project").stateDir).toBe("/project/.alchemy");
  });

  it("is the store $ALCHEMY_STATE_STORE names when it is set, as for alchemy(...), and then no directory is removed", () => {
    const store = defaultStore({ ALCHEMY_STATE_STORE: "sqlite:state/test.sqlite" }, "/project");
    expect(store).toMatchObject({ key: "sqlite:/project/state/test.sqlite", stateDir: undefined });
    expect(store.factory({ chain: ["app", "dev"] })).toBeInstanceOf(SQLiteStateStore);
    expect(defaultStore({ ALCHEMY_STATE_STORE: "file:elsewhere" }, "/project")).toMatchObject({ key: "/project/elsewhere", stateDir: undefined });
  });

  it("fails on an $ALCHEMY_STATE_STORE that is not a store URL, saying what to do", () => {
    expect(() => defaultStore({ ALCHEMY_STATE_STORE: "redis://cache" }, "/project")).toThrow(AlchemyError);
    expect(() => defaultStore({ ALCHEMY_STATE_STORE: "redis://cache" }, "/project")).toThrow(
      /^\$ALCHEMY_STATE_STORE is not a store URL: Unknown state store URL .* give alchemy\.test a stateStore option\.$/,
    );
  });
});
