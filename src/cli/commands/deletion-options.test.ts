import { describe, expect, it } from "vitest";
import { runAlchemy, runAlchemyOnTerminal } from "../cli.test-fixture.js";
import { project, record, removeProjectsAfterEach, rewrite, world } from "../note-project.test-fixture.js";

removeProjectsAfterEach();

const SIX = ["a", "b", "c", "d", "e", "f"];
const notes = (ids: string[], options = "") => ids.map((id) => `await Note("${id}", { text: "${id}" }${options ? `, ${options}` : ""});`).join("\n");

describe("protect, retain and the mass-deletion guard on the command line", () => {
  it("plans a protected deletion as refused and fails, then `state unprotect` lets the deploy delete it", async () => {
    const dir = project(`${notes(["keep"])}\n${notes(["db"], "{ protect: true }")}`);
    const first = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/✓ created shop\/dev\/db \[protected\]/);
    expect(record(dir, "dev", "db").protect).toBe(true);

    rewrite(dir, notes(["keep"]));
    const plan = await runAlchemy(["plan", "--stage", "dev"], dir);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toMatch(/- delete +shop\/dev\/db \[protected\] ✗ protected: deploy stops/);
    expect(plan.stdout).toContain("This run would delete a protected resource");

    const json = await runAlchemy(["plan", "--stage", "dev", "--json"], dir);
    const doc = JSON.parse(json.stdout);
    expect(doc.resources.find((r: { fqn: string }) => r.fqn === "shop/dev/db")).toMatchObject({ action: "delete", status: "planned", protect: true, refused: "protected" });

    const deploy = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(deploy.code).toBe(1);
    expect(deploy.stdout).toContain("alchemy state unprotect <fqn>");
    expect(world(dir)).toEqual(["db", "keep"]);

    const unprotect = await runAlchemy(["state", "unprotect", "shop/dev/db"], dir);
    expect(unprotect.code).toBe(0);
    expect(unprotect.stdout).toContain("shop/dev/db is no longer protected");
    expect(record(dir, "dev", "db").protect).toBeUndefined();
    expect((await runAlchemy(["state", "unprotect", "shop/dev/db"], dir)).stdout).toContain("is not protected; nothing was changed");

    const again = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(again.code).toBe(0);
    expect(world(dir)).toEqual(["keep"]);
  });

  it("`destroy` of a stage holding a protected resource stops before asking for confirmation, deleting nothing", async () => {
    const dir = project(`${notes(["keep"])}\n${notes(["db"], "{ protect: true }")}`);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    const destroy = await runAlchemyOnTerminal(["destroy", "--stage", "dev"], dir, "yes\n", 1500);
    expect(destroy.code).toBe(1);
    expect(destroy.stdout).not.toContain("Type \"yes\" to go on");
    expect(destroy.stdout).toContain("shop/dev/db");
    expect(destroy.stdout).toContain("alchemy state unprotect <fqn>");
    expect(world(dir)).toEqual(["db", "keep"]);
    expect(record(dir, "dev", "keep").status).toBe("created");
  });

  it("`state rm` refuses to forget a protected resource, changing nothing, until --force", async () => {
    const dir = project(`${notes(["keep"])}\n${notes(["db"], "{ protect: true }")}`);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    const refused = await runAlchemy(["state", "rm", "shop/dev/db"], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("Not forgetting shop/dev/db: shop/dev/db is recorded with protect: true");
    expect(refused.stderr).toContain("Run `alchemy state unprotect <fqn>` first, or pass --force to forget it anyway. Nothing was changed.");
    expect(record(dir, "dev", "db").protect).toBe(true);
    const history = await runAlchemy(["state", "history", "--stage", "dev", "--json"], dir);
    expect(JSON.parse(history.stdout)).toHaveLength(1); // the deploy's entry only

    const forced = await runAlchemy(["state", "rm", "shop/dev/db", "--force"], dir);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain("Forgot 1 record (the resources themselves were not deleted)");
    expect(world(dir)).toEqual(["db", "keep"]);
    expect((await runAlchemy(["state", "rm", "shop/dev/keep"], dir)).code).toBe(0); // not protected: no --force needed
  });

  it("records protect and retain on a no-op deploy, says so, and forgets a retained resource without deleting it", async () => {
    const dir = project(notes(["keep", "rules"]));
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir)).code).toBe(0);
    rewrite(dir, `${notes(["keep"])}\n${notes(["rules"], "{ retain: true }")}`);
    const plan = await runAlchemy(["plan", "--stage", "dev"], dir);
    expect(plan.stdout).toMatch(/record +shop\/dev\/rules \(retain: false -> true; the handler is not called\)/);
    const noop = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(noop.code).toBe(0);
    expect(noop.stdout).toContain("✓ recorded shop/dev/rules (retain: false -> true)");
    expect(noop.stderr).not.toContain("started rules");
    expect(record(dir, "dev", "rules").retain).toBe(true);

    rewrite(dir, notes(["keep"]));
    const plan2 = await runAlchemy(["plan", "--stage", "dev"], dir);
    expect(plan2.stdout).toMatch(/- forget +shop\/dev\/rules \(retain: the record is forgotten, the resource is not deleted\)/);
    expect(plan2.stdout).toMatch(/0 to delete, 1 to retain \(not deleted\)/);
    const gone = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toContain("✓ retained shop/dev/rules (not deleted)");
    expect(gone.stdout).toMatch(/deleted 0, retained 1 \(not deleted\)/);
    expect(gone.stderr).not.toContain("deleting rules");
    expect(world(dir)).toEqual(["keep", "rules"]);
    expect((await runAlchemy(["state", "list", "--stage", "dev"], dir)).stdout).not.toContain("rules");
  });

  it("stops a deploy that would delete most of the stage until --allow-deletes, and plans it as such", async () => {
    const dir = project(`${notes(["dns"])}\nif (process.env.REGION) await alchemy.run("database", async () => {\n${notes(SIX)}\n});`);
    expect((await runAlchemy(["deploy", "--stage", "dev"], dir, { REGION: "eu" })).code).toBe(0);

    const plan = await runAlchemy(["plan", "--stage", "dev"], dir);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toMatch(/- delete +shop\/dev\/database\/a ✗ over maxDeletes: deploy stops/);
    const stopped = await runAlchemy(["deploy", "--stage", "dev"], dir);
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toContain('Stage "shop/dev": this deploy would delete 6 of its 7 resources (more than maxDeletes 50%)');
    expect(stopped.stdout).toContain("--allow-deletes");
    expect(stopped.stderr).not.toContain("deleting");
    expect(world(dir)).toEqual(["a", "b", "c", "d", "dns", "e", "f"]);

    expect((await runAlchemy(["plan", "--stage", "dev", "--allow-deletes"], dir)).code).toBe(0);
    const allowed = await runAlchemy(["deploy", "--stage", "dev", "--allow-deletes"], dir);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/deleted 6/);
    expect(world(dir)).toEqual(["dns"]);
  });
});
