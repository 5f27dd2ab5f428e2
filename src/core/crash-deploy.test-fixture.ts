/**
 * A deploy of N resources whose real effect is one marker file each, created
 * with O_EXCL so that a second real creation is impossible to miss: a create
 * that finds its marker adopts it. Run by crash.test.ts, which kills it.
 *
 * env: ROOT (project dir), N, STAGE, GEN (a prop every resource gets, to make a deploy update them all)
 */
import { appendFileSync, openSync, closeSync } from "node:fs";
import path from "node:path";
import alchemy, { Resource, type Context } from "alchemy";

const root = process.env.ROOT!;
const n = Number(process.env.N ?? 1000);
const world = path.join(root, "world");

const Marker = Resource("crash::Marker", async function (this: Context<{ file: string; adopted: boolean }, { i: number; gen?: string }>, id: string) {
  const file = path.join(world, `${id}.marker`);
  if (this.phase === "delete") return this.destroy();
  await new Promise((r) => setTimeout(r, Math.random() * 3));
  try {
    closeSync(openSync(file, "wx"));
    appendFileSync(path.join(root, "creations.log"), `${this.fqn}\n`);
    return { file, adopted: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    appendFileSync(path.join(root, "adoptions.log"), `${this.fqn}\n`);
    return { file, adopted: true };
  }
});

const app = await alchemy("crash", { stage: process.env.STAGE ?? "s", rootDir: root, quiet: true, onEvent: (e) => {
  if (e.note && e.status === "start") console.log(`NOTE ${e.fqn}: ${e.note}`);
} });
const half = Math.floor(n / 2);
const gen = process.env.GEN ? { gen: process.env.GEN } : {};
await Promise.all([
  ...Array.from({ length: half }, (_, i) => Marker(`top-${i}`, { i, ...gen })),
  alchemy.run("nested", async () => {
    await Promise.all(Array.from({ length: n - half }, (_, i) => Marker(`inner-${i}`, { i, ...gen })));
  }),
]);
await app.finalize();
console.log("DONE");
