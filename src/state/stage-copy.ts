/**
 * Every record of a stage, read from one store and written to another: what
 * `alchemy state migrate`, `state export` and `state import` are made of. Works
 * through the {@link StateStore} interface only, so any two stores can trade.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { AlchemyError } from "../core/errors.js";
import { stateProblem } from "./state-record.js";
import type { StageMeta, State, StateStore, StateStoreFactory } from "./state-store.js";

/** One record and the scope it lives in (`chain` from the application down). */
export interface StageRecord {
  chain: string[];
  state: State;
}

/** The portable form of a stage, as `alchemy state export` prints it. */
export interface StageExport {
  format: "alchemy-stage";
  version: 1;
  app: string;
  stage: string;
  /** The stage's metadata (e.g. the salt and verifier its secrets need), when it has some. */
  meta?: StageMeta;
  records: StageRecord[];
}

/** The stage's metadata, if its store keeps any. */
export async function readStageMeta(session: StoreSession, app: string, stage: string): Promise<StageMeta | undefined> {
  const store = await session.open([app, stage]);
  return store.getStageMeta ? await store.getStageMeta() : undefined;
}

/**
 * Writes the stage's metadata (before its records: they may hold secrets that
 * only open with it). A target store without the capability cannot take it.
 */
export async function writeStageMeta(session: StoreSession, app: string, stage: string, meta: StageMeta | undefined, where: string): Promise<void> {
  if (meta === undefined) return;
  const store = await session.open([app, stage]);
  if (!store.setStageMeta) {
    throw new AlchemyError(`${where} cannot keep stage metadata, which stage "${stage}" has (its secrets need it); pick a filesystem, SQLite or PostgreSQL store.`);
  }
  await store.setStageMeta(meta);
}

/** Opens stores the way the engine does (init first) and closes them all at the end. */
export class StoreSession {
  private readonly opened: StateStore[] = [];
  constructor(private readonly factory: StateStoreFactory) {}

  /** A store of `chain`, initialized. */
  async open(chain: string[]): Promise<StateStore> {
    const store = this.make(chain);
    await store.init?.();
    return store;
  }

  /** A store of `chain`, not initialized yet (to lock its stage before reading). */
  make(chain: string[]): StateStore {
    const store = this.factory({ chain });
    this.opened.push(store);
    return store;
  }

  async close(): Promise<void> {
    for (const store of this.opened.splice(0).reverse()) await store.deinit?.();
  }
}

/** Every record of `app/stage`, nested and resource scopes included, in a stable order. */
export async function readStage(session: StoreSession, app: string, stage: string): Promise<StageRecord[]> {
  const records: StageRecord[] = [];
  const walk = async (chain: string[]) => {
    const store = await session.open(chain);
    const all = await store.all();
    for (const id of Object.keys(all).sort()) records.push({ chain, state: all[id]! });
    for (const child of (await store.listScopes()).sort()) await walk([...chain, child]);
  };
  await walk([app, stage]);
  return records;
}

/** Writes `records` into the stores of `session`, one scope at a time. */
export async function writeStage(session: StoreSession, records: StageRecord[]): Promise<void> {
  const byScope = new Map<string, StageRecord[]>();
  for (const record of records) {
    const key = record.chain.join("/");
    byScope.set(key, [...(byScope.get(key) ?? []), record]);
  }
  for (const group of byScope.values()) {
    const store = await session.open(group[0]!.chain);
    await Promise.all(group.map(({ state }) => store.set(state.id, state)));
  }
}

/** Throws unless `actual` holds exactly the records of `expected`, field for field. */
export function verifyCopy(expected: StageRecord[], actual: StageRecord[], where: string): void {
  const key = (r: StageRecord) => `${r.chain.join("/")}/${r.state.id}`;
  const found = new Map(actual.map((r) => [key(r), r.state]));
  const problems: string[] = [];
  for (const r of expected) {
    const copy = found.get(key(r));
    if (copy === undefined) problems.push(`${key(r)} is missing`);
    else if (!isDeepStrictEqual(JSON.parse(JSON.stringify(copy)), JSON.parse(JSON.stringify(r.state)))) problems.push(`${key(r)} differs`);
  }
  if (actual.length !== expected.length) problems.push(`${actual.length} records instead of ${expected.length}`);
  if (problems.length) {
    throw new AlchemyError(`The copy in ${where} does not match its source: ${problems.slice(0, 10).join("; ")}${problems.length > 10 ? "; ..." : ""}.`);
  }
}

/** Checks that `value` is a {@link StageExport}; the message names what is wrong. */
export function parseStageExport(value: unknown, source: string): StageExport {
  const doc = value as Partial<StageExport> | null;
  const fail = (what: string) => new AlchemyError(`${source} is not an alchemy stage export: ${what}. Make one with \`alchemy state export\`.`);
  if (doc === null || typeof doc !== "object") throw fail("it is not a JSON object");
  if (doc.format !== "alchemy-stage" || doc.version !== 1) throw fail(`format/version is ${JSON.stringify(doc.format)}/${JSON.stringify(doc.version)}, expected "alchemy-stage"/1`);
  if (typeof doc.app !== "string" || typeof doc.stage !== "string") throw fail("app and stage must be strings");
  if (!Array.isArray(doc.records)) throw fail("records must be an array");
  if (doc.meta !== undefined && (doc.meta === null || typeof doc.meta !== "object" || Array.isArray(doc.meta))) throw fail("meta must be an object");
  doc.records.forEach((r, i) => {
    if (!Array.isArray(r?.chain) || r.chain[0] !== doc.app || r.chain[1] !== doc.stage || typeof r.state?.id !== "string") {
      throw fail(`record ${i} must have a chain starting with [${JSON.stringify(doc.app)}, ${JSON.stringify(doc.stage)}] and a state with an id`);
    }
  });
  checkRecordsBelong(doc as StageExport, source);
  return doc as StageExport;
}

/**
 * Throws unless every record of `doc` belongs where it will be written: its
 * `fqn` is its chain plus its id, each place is given once, and its deps (and
 * those of its replaced instances) name records of the stage `doc` names only.
 * An export is never trusted to move records between stages: a record
 * describes its own stage's resources, so a copy claiming another stage would
 * let that stage's destroy delete them.
 */
function checkRecordsBelong(doc: StageExport, source: string): void {
  const stagePath = `${doc.app}/${doc.stage}`;
  const refuse = (what: string) =>
    new AlchemyError(
      `${source} cannot be imported: ${what} ` +
        `Every record of an export belongs to the stage it names (${stagePath}): its fqn is that stage, its scope path and its id, ` +
        `and its deps name records of that stage only. Records describe the resources of their own stage, so they are not moved between stages: ` +
        `import an export unchanged to move a stage to another store (or use \`alchemy state migrate\`), and deploy the program with ` +
        `--stage ${doc.stage} to give stage "${doc.stage}" resources of its own (add --adopt to take over ones that already exist).`,
    );
  const places = new Map<string, number>();
  doc.records.forEach(({ chain, state }, i) => {
    const place = [...chain, state.id].join("/");
    const problem = stateProblem(state, state.id, place);
    if (problem !== undefined) {
      throw refuse(
        state?.fqn !== place && typeof state?.fqn === "string"
          ? `record ${i} is stored as ${JSON.stringify(place)} (its chain and id) but holds fqn ${JSON.stringify(state.fqn)}.`
          : `record ${i} (${place}) ${problem}.`,
      );
    }
    const first = places.get(place);
    if (first !== undefined) throw refuse(`record ${i} is stored as ${JSON.stringify(place)}, like record ${first}; an export holds each record once.`);
    places.set(place, i);
    for (const dep of [...state.deps, ...(state.replaced ?? []).flatMap((r) => r.deps)]) {
      if (!dep.startsWith(stagePath + "/")) {
        throw refuse(`record ${place} depends on ${JSON.stringify(dep)}, which is not a record of stage ${stagePath}.`);
      }
    }
  });
}
