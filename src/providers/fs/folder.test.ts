import { existsSync } from "node:fs";
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTestProject } from "../test-project.test-fixture.js";
import { DestroyError, type Application } from "alchemy";
import { File, Folder } from "alchemy/fs";

const project = useTestProject("alchemy-folder-");
const { deploy, record, actions } = project;

/** `action id` of every resource a run changed (or a plan would), in order. */
const changed = (app: Application) => app.events.filter((e) => e.status !== "start" && e.action !== "noop").map((e) => `${e.action} ${e.fqn.split("/").pop()}`);
/** Every count of a run's summary but its time. */
const counts = (app: Application) => ({ ...app.summary, elapsedMs: 0 });

describe("fs::Folder", () => {
  it("creates the folder with its missing parents and records its absolute path", async () => {
    const { result } = await deploy(() => Folder("out", { path: "out/site/assets" }));
    const absolute = path.join(project.root, "out", "site", "assets");
    expect(result).toEqual({ path: absolute, relativePath: "out/site/assets" });
    expect(existsSync(absolute)).toBe(true);
    expect(await record("out")).toMatchObject({ status: "created", kind: "fs::Folder", output: result });
  });

  it("adopts a folder that already exists, keeping its contents", async () => {
    await mkdir(path.join(project.root, "out"));
    await writeFile(path.join(project.root, "out", "keep.txt"), "mine");
    await deploy(() => Folder("out", { path: "out" }));
    expect(await readFile(path.join(project.root, "out", "keep.txt"), "utf8")).toBe("mine");
  });

  it("skips an unchanged folder on the next run without calling its handler", async () => {
    await deploy(() => Folder("out", { path: "out" }));
    // Drift the real world: had the handler run, it would make the folder again.
    await rmdir(path.join(project.root, "out"));
    const { app } = await deploy(() => Folder("out", { path: "out" }));
    expect(actions(app, "test-app/t/out")).toEqual(["noop"]);
    expect(existsSync(path.join(project.root, "out"))).toBe(false);
  });

  it("updates in place when only `clean` changes, leaving what depends on it alone", async () => {
    const program = (clean: boolean) => async () => {
      const out = await Folder("out", { path: "out", clean });
      await File("a", { folder: out, path: "a.txt", content: "a" });
      return out;
    };
    await deploy(program(false));
    const { app, result } = await deploy(program(true));
    expect(actions(app, "test-app/t/out")).toEqual(["update"]);
    expect(actions(app, "test-app/t/a")).toEqual(["noop"]);
    expect(result).toEqual({ path: path.join(project.root, "out"), relativePath: "out" });
    expect(existsSync(path.join(project.root, "out", "a.txt"))).toBe(true);
  });

  it("replaces the folder when its path changes: the new one now, the old one at finalize", async () => {
    await deploy(() => Folder("out", { path: "old" }));
    let oldExistedBeforeFinalize = false;
    const { app } = await deploy(async () => {
      const folder = await Folder("out", { path: "new" });
      oldExistedBeforeFinalize = existsSync(path.join(project.root, "old"));
      return folder;
    });
    expect(oldExistedBeforeFinalize).toBe(true);
    expect(actions(app, "test-app/t/out")).toEqual(["replace", "delete"]);
    expect(existsSync(path.join(project.root, "old"))).toBe(false);
    expect(existsSync(path.join(project.root, "new"))).toBe(true);
    expect((await record("out"))?.output).toMatchObject({ path: path.join(project.root, "new") });
  });

  it("is planned as deploy does it: replace and the old folder's delete for a new path, update alone for `clean`", async () => {
    const program = (dir: string, clean: boolean) => async () => {
      const out = await Folder("out", { path: dir, clean });
      await File("a", { folder: out, path: "a.txt", content: "a" });
    };
    await deploy(program("v1", false));
    for (const [dir, clean, expected] of [
      ["v1", true, ["update out"]],
      ["v2", true, ["replace out", "delete out", "replace a", "delete a"]],
    ] as const) {
      const plan = await deploy(program(dir, clean), { phase: "plan" });
      const done = await deploy(program(dir, clean));
      expect(changed(plan.app)).toEqual(expected);
      expect(changed(done.app).sort()).toEqual([...expected].sort());
      expect(counts(done.app)).toEqual(counts(plan.app));
    }
    expect(await readFile(path.join(project.root, "v2", "a.txt"), "utf8")).toBe("a");
    expect(existsSync(path.join(project.root, "v1"))).toBe(false);
  });

  it("updates in place when the new path names the same folder, keeping it and what is in it", async () => {
    const program = (dir: string) => async () => {
      const out = await Folder("out", { path: dir });
      await File("a", { folder: out, path: "a.txt", content: "a" });
    };
    await deploy(program("out"));
    const plan = await deploy(program("./out/"), { phase: "plan" });
    const { app } = await deploy(program("./out/"));
    expect(changed(plan.app)).toEqual(["update out"]);
    expect(changed(app)).toEqual(["update out"]);
    expect(await readFile(path.join(project.root, "out", "a.txt"), "utf8")).toBe("a");
  });

  it("resolves a child folder inside its parent and records the parent as a dependency", async () => {
    const { result } = await deploy(async () => {
      const out = await Folder("out", { path: "out" });
      return Folder("site", { path: "site", parent: out });
    });
    expect(result.path).toBe(path.join(project.root, "out", "site"));
    expect((await record("site"))?.deps).toEqual(["test-app/t/out"]);
  });

  // Engine gap: at finalize, a replaced instance's deps point at the *current*
  // record of the dependency, not at its replaced instance, so the old parent
  // can be deleted before the old child inside it. The next run cleans up.
  // Flip to `it` once src/core/destroy.ts orders replaced instances by deps.
  it("replaces a child folder along with its parent when the parent moves, deleting the old child first", async () => {
    const program = (dir: string) => async () => {
      const out = await Folder("out", { path: dir });
      await Folder("site", { path: "site", parent: out });
    };
    await deploy(program("v1"));
    await deploy(program("v2"));
    expect(existsSync(path.join(project.root, "v1"))).toBe(false);
    expect(existsSync(path.join(project.root, "v2", "site"))).toBe(true);
  });

  it("deletes a folder at finalize once the program no longer declares it", async () => {
    await deploy(async () => {
      await Folder("keep", { path: "keep" });
      await Folder("drop", { path: "drop" });
    });
    const { app } = await deploy(() => Folder("keep", { path: "keep" }));
    expect(actions(app, "test-app/t/drop")).toEqual(["delete"]);
    expect(existsSync(path.join(project.root, "drop"))).toBe(false);
    expect(existsSync(path.join(project.root, "keep"))).toBe(true);
    expect(await record("drop")).toBeUndefined();
  });

  it("treats a folder that is already gone as deleted", async () => {
    await deploy(() => Folder("out", { path: "out" }));
    await rmdir(path.join(project.root, "out"));
    await deploy(async () => {});
    expect(await record("out")).toBeUndefined();
  });

  it("refuses to delete a non-empty folder without `clean`, keeps it in state, and deletes it once `clean` is set", async () => {
    await deploy(() => Folder("out", { path: "out" }));
    await writeFile(path.join(project.root, "out", "stray.txt"), "not managed");

    const failure = await deploy(async () => {}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DestroyError);
    const message = (failure as Error).message;
    expect(message).toContain(path.join(project.root, "out"));
    expect(message).toContain("clean: true");
    expect(existsSync(path.join(project.root, "out", "stray.txt"))).toBe(true);
    expect(await record("out")).toMatchObject({ status: "deleting" });

    await deploy(() => Folder("out", { path: "out", clean: true }));
    await deploy(async () => {});
    expect(existsSync(path.join(project.root, "out"))).toBe(false);
    expect(await record("out")).toBeUndefined();
  });

  it("destroys every folder in the destroy phase, children before their parent", async () => {
    const program = async () => {
      const out = await Folder("out", { path: "out" });
      const site = await Folder("site", { path: "site", parent: out });
      await Folder("assets", { path: "assets", parent: site });
    };
    await deploy(program);
    expect(existsSync(path.join(project.root, "out", "site", "assets"))).toBe(true);
    await deploy(program, { phase: "destroy" });
    expect(existsSync(path.join(project.root, "out"))).toBe(false);
    expect(await record("out")).toBeUndefined();
    expect(await record("assets")).toBeUndefined();
  });

  it("rejects a path that resolves to the project.root directory or above it, naming the folder", async () => {
    for (const bad of [".", "..", ""]) {
      const error = await deploy(() => Folder("danger", { path: bad })).catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain("test-app/t/danger");
    }
    expect(existsSync(project.root)).toBe(true);
  });

  it("forgets an invalid folder removed from the program without touching the disk", async () => {
    await deploy(() => Folder("danger", { path: ".." })).catch(() => undefined);
    await deploy(async () => {});
    expect(await record("danger")).toBeUndefined();
    expect(existsSync(project.root)).toBe(true);
  });
});
