import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import alchemy, { Resource, type Application, type Context, type Drift } from "alchemy";
import { File, Folder } from "alchemy/fs";
import { RandomString } from "alchemy/random";
import { useTestProject } from "../test-project.test-fixture.js";

const project = useTestProject("alchemy-drift-");
const { record } = project;
const at = (...parts: string[]) => path.join(project.root, ...parts);
const read = (...parts: string[]) => readFile(at(...parts), "utf8");

/** A folder and two files in it, as a small site. */
const site = async (index = "<h1>Hi</h1>") => {
  const pages = await Folder("pages", { path: "site" });
  await File("index", { folder: pages, path: "index.html", content: index });
  await File("about", { folder: pages, path: "about.html", content: "<p>About</p>" });
};

/** One run of `program` in `phase`, collecting what its refresh found (in sync left out). */
async function run(program: () => Promise<unknown>, options: { phase?: "up" | "plan" | "refresh"; refresh?: boolean } = {}) {
  const drift: Drift[] = [];
  const { app } = await project.deploy(program, { ...options, onDrift: (d) => d.status !== "in-sync" && drift.push(d) });
  return { app, drift, plan: planOf(app) };
}

/** `action fqn` of every resource a plan would change. */
const planOf = (app: Application) => app.plan.filter((e) => e.action !== "noop").map((e) => `${e.action} ${e.fqn}`);

describe("a file edited by hand", () => {
  it("plan --refresh reports its content as drifted and plans the update back, changing neither the file nor its record", async () => {
    await run(() => site());
    const before = await record("index");
    await writeFile(at("site/index.html"), "<h1>edited by hand</h1>");

    const { app, drift, plan } = await run(() => site(), { phase: "plan", refresh: true });
    expect(drift).toEqual([
      expect.objectContaining({
        fqn: "test-app/t/index",
        status: "drifted",
        changes: [{ path: "content", before: "<h1>Hi</h1>", after: "<h1>edited by hand</h1>" }],
      }),
    ]);
    expect(plan).toEqual(["update test-app/t/index"]);
    expect(app.plan.find((e) => e.fqn === "test-app/t/index")?.changes).toEqual([
      { path: "content", before: "<h1>edited by hand</h1>", after: "<h1>Hi</h1>" },
    ]);
    expect(await read("site/index.html")).toBe("<h1>edited by hand</h1>");
    expect(await record("index")).toEqual(before);
  });

  it("plan without --refresh does not read it: no drift, no changes", async () => {
    await run(() => site());
    await writeFile(at("site/index.html"), "<h1>edited by hand</h1>");
    const { drift, plan } = await run(() => site(), { phase: "plan" });
    expect(drift).toEqual([]);
    expect(plan).toEqual([]);
  });

  it("deploy --refresh writes the program's content back and records it; the other resources are left alone", async () => {
    await run(() => site());
    const about = await record("about");
    await writeFile(at("site/index.html"), "<h1>edited by hand</h1>");

    const { app, drift } = await run(() => site(), { refresh: true });
    expect(drift.map((d) => `${d.status} ${d.fqn}`)).toEqual(["drifted test-app/t/index"]);
    expect(project.actions(app, "test-app/t/index")).toEqual(["update"]);
    expect(await read("site/index.html")).toBe("<h1>Hi</h1>");
    expect(await record("index")).toMatchObject({ status: "updated", props: { content: "<h1>Hi</h1>" }, output: { size: 11 } });
    expect(await record("about")).toEqual(about);

    const again = await run(() => site(), { phase: "plan", refresh: true });
    expect([again.drift, again.plan]).toEqual([[], []]);
  });

  it("alchemy refresh records the edited content and output without touching the file; a plain plan then shows the update back", async () => {
    await run(() => site());
    const about = await record("about");
    await writeFile(at("site/index.html"), "<h1>edited by hand</h1>");

    const { drift } = await run(() => site(), { phase: "refresh" });
    expect(drift).toEqual([expect.objectContaining({ fqn: "test-app/t/index", status: "drifted", note: "recorded" })]);
    expect(await read("site/index.html")).toBe("<h1>edited by hand</h1>");
    expect(await record("index")).toMatchObject({ props: { content: "<h1>edited by hand</h1>" }, output: { size: 23 } });
    expect(await record("about")).toEqual(about);

    const { app, plan } = await run(() => site(), { phase: "plan" });
    expect(plan).toEqual(["update test-app/t/index"]);
    expect(app.plan.find((e) => e.fqn === "test-app/t/index")?.changes).toEqual([
      { path: "content", before: "<h1>edited by hand</h1>", after: "<h1>Hi</h1>" },
    ]);
  });

  it("shows a secret's text as [secret], and a json file's edit at its path", async () => {
    const program = async () => {
      await File("key", { path: "key.txt", content: alchemy.secret("s3cret") });
      await File("config", { path: "config.json", json: { port: 8080 } });
    };
    const password = { password: "pw" } as const;
    await project.deploy(program, password);
    await writeFile(at("key.txt"), "leaked-by-hand");
    await writeFile(at("config.json"), '{ "port": 9090 }\n');

    const drift: Drift[] = [];
    await project.deploy(program, { ...password, phase: "plan", refresh: true, onDrift: (d) => d.status !== "in-sync" && drift.push(d) });
    expect(drift.map((d) => [d.fqn, JSON.stringify(d.changes)])).toEqual([
      ["test-app/t/key", '[{"path":"content","before":"[secret]","after":"[secret]"}]'],
      ["test-app/t/config", '[{"path":"json.port","before":8080,"after":9090}]'],
    ]);
  });
});

describe("a file deleted by hand", () => {
  it("plan --refresh says it is gone and plans to create it again", async () => {
    await run(() => site());
    await rm(at("site/about.html"));
    const { drift, plan } = await run(() => site(), { phase: "plan", refresh: true });
    expect(drift).toEqual([{ fqn: "test-app/t/about", kind: "fs::File", status: "gone", note: "it will be created again" }]);
    expect(plan).toEqual(["create test-app/t/about"]);
    expect(existsSync(at("site/about.html"))).toBe(false);
    expect(await record("about")).toMatchObject({ status: "created" });
  });

  it("deploy --refresh creates it again", async () => {
    await run(() => site());
    const seq = (await record("about"))!.seq;
    await rm(at("site/about.html"));
    const { app } = await run(() => site(), { refresh: true });
    expect(project.actions(app, "test-app/t/about")).toEqual(["create"]);
    expect(await read("site/about.html")).toBe("<p>About</p>");
    expect(await record("about")).toMatchObject({ status: "created", seq: seq + 2 });
  });

  it("alchemy refresh removes its record and creates nothing; the next deploy creates it", async () => {
    await run(() => site());
    await rm(at("site/about.html"));
    const { drift } = await run(() => site(), { phase: "refresh" });
    expect(drift).toEqual([expect.objectContaining({ fqn: "test-app/t/about", status: "gone", note: "its record is removed" })]);
    expect(await record("about")).toBeUndefined();
    expect(existsSync(at("site/about.html"))).toBe(false);

    await run(() => site());
    expect(await read("site/about.html")).toBe("<p>About</p>");
  });
});

describe("a folder renamed by hand", () => {
  it("is gone with its files: deploy --refresh makes them again and leaves the renamed folder, not ours, alone", async () => {
    await run(() => site());
    await rename(at("site"), at("site-renamed"));

    const planned = await run(() => site(), { phase: "plan", refresh: true });
    expect(planned.drift.map((d) => `${d.status} ${d.fqn}`)).toEqual(["gone test-app/t/pages", "gone test-app/t/index", "gone test-app/t/about"]);
    expect(planned.plan).toEqual(["create test-app/t/pages", "create test-app/t/index", "create test-app/t/about"]);

    await run(() => site(), { refresh: true });
    expect(await read("site/index.html")).toBe("<h1>Hi</h1>");
    expect(await read("site/about.html")).toBe("<p>About</p>");
    expect(await read("site-renamed/index.html")).toBe("<h1>Hi</h1>");
    const again = await run(() => site(), { phase: "plan", refresh: true });
    expect([again.drift, again.plan]).toEqual([[], []]);
  });

  it("alchemy refresh forgets the folder and its files, leaving both folders on disk", async () => {
    await run(() => site());
    await rename(at("site"), at("site-renamed"));
    await run(() => site(), { phase: "refresh" });
    expect([await record("pages"), await record("index"), await record("about")]).toEqual([undefined, undefined, undefined]);
    expect(existsSync(at("site"))).toBe(false);
    expect(await read("site-renamed/about.html")).toBe("<p>About</p>");
  });
});

describe("reads that say nothing new, or fail", () => {
  it("a RandomString never drifts, and a kind without read is left as recorded and said so", async () => {
    const Plain = Resource("test::Unreadable", async function (this: Context<{ ok: boolean }>) {
      if (this.phase === "delete") return this.destroy();
      return { ok: true };
    });
    const program = async () => {
      await RandomString("token", { secret: false });
      await Plain("plain");
    };
    await run(program);
    const refreshed = await run(program, { phase: "refresh" });
    expect(refreshed.drift).toEqual([
      { fqn: "test-app/t/plain", kind: "test::Unreadable", status: "unread", note: "not read: test::Unreadable has no read, so it is taken as recorded" },
    ]);
    expect(await record("plain")).toMatchObject({ seq: 2, output: { ok: true } });
  });

  it("a read that throws fails the resource, naming its fqn, and a deploy --refresh then changes and deletes nothing", async () => {
    let broken = false;
    const Fragile = Resource(
      "test::Fragile",
      {
        async read(this: Context<{ n: number }, { n: number }>) {
          if (broken) throw new Error("the API said 500");
          return this.output;
        },
      },
      async function (this: Context<{ n: number }, { n: number }>, _id: string, props: { n: number }) {
        if (this.phase === "delete") return this.destroy();
        return { n: props.n };
      },
    );
    await run(async () => {
      await Fragile("a", { n: 1 });
      await Fragile("b", { n: 1 });
    });
    broken = true;
    const failed = project.deploy(() => Fragile("a", { n: 2 }), { refresh: true });
    await expect(failed).rejects.toThrow(
      'Failed to read "test-app/t/a" to refresh it: the API said 500 Fix what the read needs (credentials, access) and run again, or run without --refresh to use the record as it is.',
    );
    expect(await record("a")).toMatchObject({ props: { n: 1 }, seq: 2 });
    expect(await record("b")).toMatchObject({ status: "created" });
  });
});

describe("a refresh's records on a folder made again before its files", () => {
  it("keeps the files' records when only the folder was emptied and made again by hand", async () => {
    await run(() => site());
    await rm(at("site"), { recursive: true });
    await mkdir(at("site"));
    const { drift } = await run(() => site(), { phase: "refresh" });
    expect(drift.map((d) => `${d.status} ${d.fqn}`)).toEqual(["gone test-app/t/index", "gone test-app/t/about"]);
    expect(await record("pages")).toMatchObject({ status: "created" });
  });
});
