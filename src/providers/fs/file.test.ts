import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTestProject } from "../test-project.test-fixture.js";
import alchemy, { ResourceError } from "alchemy";
import { File, Folder } from "alchemy/fs";
import { RandomString } from "alchemy/random";

const project = useTestProject("alchemy-file-");
const { deploy, record, actions } = project;

const at = (...parts: string[]) => path.join(project.root, ...parts);
const read = (...parts: string[]) => readFile(at(...parts), "utf8");

describe("fs::File", () => {
  it("writes its content, making missing directories, and records path, size and sha256", async () => {
    const { result } = await deploy(() => File("hello", { path: "out/deep/hello.txt", content: "héllo\n" }));
    expect(await read("out", "deep", "hello.txt")).toBe("héllo\n");
    expect(result).toEqual({
      path: at("out", "deep", "hello.txt"),
      relativePath: "out/deep/hello.txt",
      size: Buffer.byteLength("héllo\n"),
      sha256: createHash("sha256").update("héllo\n").digest("hex"),
    });
    expect(await record("hello")).toMatchObject({ status: "created", output: result });
  });

  it("writes `json` pretty-printed with a trailing newline", async () => {
    await deploy(() => File("config", { path: "config.json", json: { port: 8080, tags: ["a"] } }));
    expect(await read("config.json")).toBe('{\n  "port": 8080,\n  "tags": [\n    "a"\n  ]\n}\n');
  });

  it("overwrites a file that already exists on create, leaving no temporary file behind", async () => {
    await writeFile(at("notes.txt"), "before");
    await deploy(() => File("notes", { path: "notes.txt", content: "after" }));
    expect(await read("notes.txt")).toBe("after");
    expect(await readdir(project.root)).toEqual(expect.not.arrayContaining([expect.stringMatching(/\.tmp$/)]));
  });

  it("skips an unchanged file on the next run: no handler call, same mtime", async () => {
    const program = () => File("hello", { path: "hello.txt", content: "hi" });
    await deploy(program);
    const before = await stat(at("hello.txt"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { app } = await deploy(program);
    expect(actions(app, "test-app/t/hello")).toEqual(["noop"]);
    expect((await stat(at("hello.txt"))).mtimeMs).toBe(before.mtimeMs);
  });

  it("rewrites only the file whose content changed", async () => {
    await deploy(async () => {
      await File("a", { path: "a.txt", content: "one" });
      await File("b", { path: "b.txt", content: "same" });
    });
    const { app } = await deploy(async () => {
      await File("a", { path: "a.txt", content: "two" });
      await File("b", { path: "b.txt", content: "same" });
    });
    expect(actions(app, "test-app/t/a")).toEqual(["update"]);
    expect(actions(app, "test-app/t/b")).toEqual(["noop"]);
    expect(await read("a.txt")).toBe("two");
    expect(app.summary).toMatchObject({ updated: 1, unchanged: 1, created: 0, deleted: 0 });
  });

  it("is replaced when its path changes: the new one is written, the old one removed at finalize, as the plan says", async () => {
    await deploy(() => File("hello", { path: "old.txt", content: "hi" }));
    const plan = await deploy(() => File("hello", { path: "sub/new.txt", content: "hi" }), { phase: "plan" });
    expect(plan.app.plan.filter((e) => e.action !== "noop")).toMatchObject([
      { action: "replace", changes: [{ path: "path", before: "old.txt", after: "sub/new.txt" }] },
      { action: "delete", note: "replaced instance" },
    ]);
    let oldExistedBeforeFinalize = false;
    const { app, result } = await deploy(async () => {
      const file = await File("hello", { path: "sub/new.txt", content: "hi" });
      oldExistedBeforeFinalize = existsSync(at("old.txt"));
      return file;
    });
    expect(oldExistedBeforeFinalize).toBe(true);
    expect(actions(app, "test-app/t/hello")).toEqual(["replace", "delete"]);
    expect(existsSync(at("old.txt"))).toBe(false);
    expect(await read("sub", "new.txt")).toBe("hi");
    expect((await record("hello"))?.output).toEqual(result);
  });

  it("is rewritten in place, never deleted, when the new path names the same file", async () => {
    await deploy(() => File("hello", { path: "hello.txt", content: "hi" }));
    const plan = await deploy(() => File("hello", { path: "./hello.txt", content: "hi!" }), { phase: "plan" });
    const { app } = await deploy(() => File("hello", { path: "./hello.txt", content: "hi!" }));
    expect(actions(plan.app, "test-app/t/hello")).toEqual(["update"]);
    expect(actions(app, "test-app/t/hello")).toEqual(["update"]);
    expect(await read("hello.txt")).toBe("hi!");
  });

  it("plans its dependents from its future output: a file whose json holds another's sha256 is updated with it", async () => {
    const program = (text: string) => async () => {
      const source = await File("source", { path: "source.txt", content: text });
      await File("manifest", { path: "manifest.json", json: { sha256: source.sha256 } });
      await File("listing", { path: "listing.json", json: { path: source.relativePath } });
    };
    await deploy(program("one"));
    const plan = await deploy(program("two"), { phase: "plan" });
    expect(plan.app.plan.map((e) => `${e.action} ${e.fqn.split("/").pop()}`)).toEqual(["update source", "update manifest", "noop listing"]);
    const { app } = await deploy(program("two"));
    expect({ ...app.summary, elapsedMs: 0 }).toEqual({ ...plan.app.summary, elapsedMs: 0 });
  });

  it("applies `mode` exactly, whatever the umask", async () => {
    await deploy(() => File("key", { path: "key.txt", content: "secret", mode: 0o640 }));
    expect((await stat(at("key.txt"))).mode & 0o777).toBe(0o640);
    await deploy(() => File("key", { path: "key.txt", content: "secret", mode: 0o600 }));
    expect((await stat(at("key.txt"))).mode & 0o777).toBe(0o600);
  });

  it("lives inside its folder and records the folder as a dependency", async () => {
    const { result } = await deploy(async () => {
      const out = await Folder("out", { path: "out" });
      return File("index", { folder: out, path: "index.html", content: "<h1>hi</h1>" });
    });
    expect(result.path).toBe(at("out", "index.html"));
    expect((await record("index"))?.deps).toEqual(["test-app/t/out"]);
  });

  it("deletes a file at finalize once the program no longer declares it, keeping its folder", async () => {
    const program = (withDrop: boolean) => async () => {
      const out = await Folder("out", { path: "out" });
      await File("keep", { folder: out, path: "keep.txt", content: "k" });
      if (withDrop) await File("drop", { folder: out, path: "drop.txt", content: "d" });
    };
    await deploy(program(true));
    let dropExistedBeforeFinalize = false;
    const app = await alchemy("test-app", { stage: "t", rootDir: project.root, quiet: true });
    await program(false)();
    dropExistedBeforeFinalize = existsSync(at("out", "drop.txt"));
    await app.finalize();
    expect(dropExistedBeforeFinalize).toBe(true);
    expect(actions(app, "test-app/t/drop")).toEqual(["delete"]);
    expect(existsSync(at("out", "drop.txt"))).toBe(false);
    expect(existsSync(at("out", "keep.txt"))).toBe(true);
    expect(await record("drop")).toBeUndefined();
  });

  it("treats a file that is already gone as deleted", async () => {
    await deploy(() => File("hello", { path: "hello.txt", content: "hi" }));
    await unlink(at("hello.txt"));
    await deploy(async () => {});
    expect(await record("hello")).toBeUndefined();
  });

  it("destroys files before the folder that holds them in the destroy phase", async () => {
    const program = async () => {
      const out = await Folder("out", { path: "out" });
      await File("a", { folder: out, path: "a.txt", content: "a" });
      await File("b", { folder: out, path: "b.json", json: { b: true } });
    };
    await deploy(program);
    await deploy(program, { phase: "destroy" });
    expect(existsSync(at("out"))).toBe(false);
    for (const id of ["out", "a", "b"]) expect(await record(id)).toBeUndefined();
  });

  it("is replaced with its folder when the folder moves, the old file deleted before the old folder", async () => {
    const program = (dir: string) => async () => {
      const out = await Folder("out", { path: dir });
      await File("a", { folder: out, path: "a.txt", content: "a" });
    };
    await deploy(program("v1"));
    const { app } = await deploy(program("v2"));
    expect(actions(app, "test-app/t/out")).toEqual(["replace", "delete"]);
    expect(actions(app, "test-app/t/a")).toEqual(["replace", "delete"]);
    expect(existsSync(at("v1"))).toBe(false);
    expect(await read("v2", "a.txt")).toBe("a");
  });

  it("embeds a RandomString given in `json` with its value, keeps it sealed in its own record, and is rewritten when it is regenerated", async () => {
    const password = "file test password";
    const program = (length: number) => async () => {
      const secret = await RandomString("secret", { length });
      await File("config", { path: "config.json", json: { secret } });
      return secret;
    };
    const first = await deploy(program(16), { password });
    const value = first.result.value.unwrap();
    const written = JSON.parse(await read("config.json"));
    expect(written).toEqual({ secret: { value, length: 16, charset: "alphanumeric" } });
    const config = await record("config");
    expect(config?.deps).toEqual(["test-app/t/secret"]);
    expect(JSON.stringify(config)).not.toContain(value);
    expect(config?.props).toMatchObject({ json: { secret: { value: { "@secret": expect.any(String) }, length: 16 } } });

    const again = await deploy(program(16), { password });
    expect(actions(again.app, "test-app/t/config")).toEqual(["noop"]);

    const second = await deploy(program(24), { password });
    expect(actions(second.app, "test-app/t/config")).toEqual(["update"]);
    expect(JSON.parse(await read("config.json")).secret.value).toBe(second.result.value.unwrap());
    expect(second.result.value.unwrap()).not.toBe(value);
  });

  it("writes a secret given as `content` or inside `json` as its value", async () => {
    await deploy(
      async () => {
        await File("key", { path: "key.txt", content: alchemy.secret("s3cret"), mode: 0o600 });
        await File("env", { path: "env.json", json: { token: alchemy.secret("t0ken"), list: [alchemy.secret("x")] } });
      },
      { password: "file test password" },
    );
    expect(await read("key.txt")).toBe("s3cret");
    expect(JSON.parse(await read("env.json"))).toEqual({ token: "t0ken", list: ["x"] });
    expect(JSON.stringify(await record("key"))).not.toContain("s3cret");
  });

  it("fails with an error naming the file when neither or both of `content` and `json` are given", async () => {
    for (const props of [{ path: "x.txt" }, { path: "x.txt", content: "a", json: {} }]) {
      const error = await deploy(() => File("x", props)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResourceError);
      expect((error as Error).message).toContain("test-app/t/x");
      expect((error as Error).message).toContain("x.txt");
      expect((error as Error).message).toMatch(/exactly one/);
    }
    expect(existsSync(at("x.txt"))).toBe(false);
  });

  it("never removes a user's file when a File that failed validation is dropped from the program", async () => {
    await writeFile(at("README.md"), "the user's own file");
    await deploy(() => File("readme", { path: "README.md" })).catch(() => undefined);
    await deploy(async () => {});
    expect(await read("README.md")).toBe("the user's own file");
    expect(await record("readme")).toBeUndefined();
  });
});
