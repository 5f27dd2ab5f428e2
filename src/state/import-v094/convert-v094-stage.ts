/**
 * One stage of Alchemy 0.94 made into this engine's records. Per record:
 *
 * - fqn: 0.94's chain (`app/stage/nested.../id`), which is also where the
 *   file lies; a record whose own fqn says otherwise is refused.
 * - `alchemy::Scope` records (`backend.json` beside `backend/`, and the
 *   stage's own `<stage>.json`) are dropped: this engine keeps no record per
 *   scope. Replaced instances 0.94 still has to delete (`pendingDeletions` in
 *   their data) are refused: deploy once more with 0.94 first.
 * - props, output, data: cleaned by {@link cleanV094Value}; `deps` are the
 *   fqns of the resource outputs embedded in props that name records of this
 *   stage (0.94 kept no `deps`).
 * - secrets: decrypted with the password into {@link Secret}s; the caller seals
 *   them under the stage's key as it writes.
 * - status, kind, id and seq are kept. A record 0.94 left `updating` gets
 *   the props it had before that update (0.94 kept them as `oldProps`), as
 *   this engine records an unfinished update; one left `creating` has no output.
 *
 * Nothing is written here: a stage that cannot be converted whole is refused
 * before the caller changes anything.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";
import { nameProblem } from "../../core/names.js";
import { Secret } from "../../core/secrets/secret.js";
import { SecretError } from "../../core/secrets/secret-error.js";
import type { StageRecord } from "../stage-copy.js";
import { RESOURCE_STATUSES, type State } from "../state-store.js";
import type { V094File, V094Stage } from "./v094-layout.js";
import { openV094Cipher, v094SecretForm } from "./v094-secrets.js";
import { cleanV094Value, findV094Secrets, type V094Field } from "./v094-values.js";

const SCOPE_KIND = "alchemy::Scope";

/** A stage converted, not written yet. */
export interface V094Conversion {
  app: string;
  stage: string;
  /** The records, their secrets as {@link Secret} values, in a stable order. */
  records: StageRecord[];
  /** Paths of the `alchemy::Scope` records left out, e.g. `app/prod/backend`. */
  droppedScopes: string[];
  /** How many dependencies the records name, in all. */
  dependencies: number;
  /** How many secret values were decrypted. */
  secrets: number;
  /** What else was changed or left out, one line each. */
  notes: string[];
}

/** Options of {@link convertV094Stage}. */
export interface V094ConvertOptions {
  /**
   * The password the stage was deployed with; needed only when it holds secrets.
   * @default undefined
   */
  password?: string;
}

/**
 * Converts every record of `source` (see the module's rules).
 *
 * @throws StateStoreError for a record that cannot be converted, naming its file and what to do
 * @throws SecretError when secrets are present and the password is missing or wrong
 * @example
 * const conversion = await convertV094Stage(readV094Stage(".alchemy", "storefront", "prod"), { password });
 * conversion.records.map((r) => r.state.fqn); // ["storefront/prod/assets", ...]
 */
export async function convertV094Stage(source: V094Stage, options: V094ConvertOptions = {}): Promise<V094Conversion> {
  const stagePath = `${source.app}/${source.stage}`;
  if (source.engineEntries.length > 0) {
    throw new StateStoreError(
      `${source.stageDir} holds files of this engine's store (${source.engineEntries.join(", ")}), so it is not a stage as Alchemy 0.94 left it: ` +
        "it was imported already, or deployed with this engine. Nothing was changed.",
      source.stageDir,
    );
  }
  const scopes: V094File[] = [];
  const resources: V094File[] = [];
  for (const file of source.files) (isScopeRecord(file) ? scopes : resources).push(file);
  for (const file of [...scopes, ...(source.stageRecord ? [source.stageRecord] : []), ...resources]) refusePendingDeletions(file);

  const sealed = resources.flatMap((file) =>
    (["props", "output", "data"] as const).flatMap((root) => findV094Secrets(recordOf(file)[root], root).map((where) => ({ file, where }))),
  );
  if (sealed.length > 0 && !options.password) {
    const first = sealed[0]!;
    throw new SecretError(
      `Stage ${stagePath} holds ${sealed.length} secret value(s) Alchemy 0.94 encrypted (the first: ${placeOf(first.file)} ${first.where}), ` +
        "and no password was given to decrypt them. Set ALCHEMY_PASSWORD to the password the stage was deployed with: " +
        "the secrets are decrypted with it and encrypted again for this engine. Nothing was changed.",
      "no-password",
    );
  }

  const notes: string[] = [];
  let secrets = 0;
  const converted = await Promise.all(
    resources.map(async (file) => {
      const state = await convertRecord(file, options.password ?? "", notes);
      secrets += state.secrets;
      return { chain: file.chain, state: state.state };
    }),
  );

  const known = new Set(converted.map((r) => r.state.fqn));
  let dependencies = 0;
  for (const { state } of converted) {
    const outside = state.deps.filter((dep) => !known.has(dep));
    for (const dep of outside) notes.push(`${state.fqn}: props hold the output of ${dep}, which is not a record of stage ${stagePath}; not recorded as a dependency`);
    state.deps = state.deps.filter((dep) => known.has(dep));
    dependencies += state.deps.length;
  }
  converted.sort((a, b) => compare(a.state.fqn, b.state.fqn));
  return {
    app: source.app,
    stage: source.stage,
    records: converted,
    droppedScopes: scopes.map(placeOf).sort(compare),
    dependencies,
    secrets,
    notes: notes.sort(compare),
  };
}

async function convertRecord(file: V094File, password: string, notes: string[]): Promise<{ state: State; secrets: number }> {
  const record = recordOf(file);
  const fqn = placeOf(file);
  for (const name of [...file.chain, file.id]) {
    const problem = nameProblem(name);
    if (problem !== undefined) {
      throw refuse(file, `the name ${JSON.stringify(name)} in its fqn ${JSON.stringify(fqn)} ${problem}; this engine takes names of letters, digits, "-", "_" and "." only. Give the resource (or scope) a name like that with Alchemy 0.94 first`);
    }
  }
  if (record.id !== file.id) throw refuse(file, `it holds id ${JSON.stringify(record.id)} but its file name says ${JSON.stringify(file.id)}`);
  if (typeof record.fqn === "string" && record.fqn !== "" && record.fqn !== fqn) {
    throw refuse(file, `it holds fqn ${JSON.stringify(record.fqn)} but lies at ${JSON.stringify(fqn)}`);
  }
  if (typeof record.kind !== "string") throw refuse(file, "it has no kind");
  if (!RESOURCE_STATUSES.includes(record.status as State["status"])) throw refuse(file, `it has status ${JSON.stringify(record.status)}`);
  if (record.deps !== undefined) {
    throw refuse(file, 'it has "deps", which Alchemy 0.94 never writes: it is a record of this engine, not one to convert');
  }

  let secrets = 0;
  const field = (root: V094Field["root"], deps?: Set<string>): V094Field => ({
    fqn,
    file: file.file,
    root,
    deps,
    note: (message) => notes.push(message),
    openSecret: async (sealed, where) => {
      secrets++;
      return new Secret(await openSecret(sealed, password, fqn, where, file.file));
    },
  });
  const deps = new Set<string>();
  const status = record.status as State["status"];
  const props = status === "updating" && "oldProps" in record ? record.oldProps : record.props;
  const data = await cleanV094Value(record.data ?? {}, field("data"));
  // An empty list of replaced instances is 0.94's bookkeeping, not the provider's data.
  if (Array.isArray((data as { pendingDeletions?: unknown } | null)?.pendingDeletions)) delete (data as { pendingDeletions?: unknown }).pendingDeletions;
  const state: State = {
    status,
    kind: record.kind,
    id: file.id,
    fqn,
    seq: typeof record.seq === "number" && Number.isFinite(record.seq) ? record.seq : 0,
    data: data !== null && typeof data === "object" && !Array.isArray(data) ? (data as Record<string, unknown>) : {},
    props: (await cleanV094Value(props, field("props", deps))) ?? {},
    output: status === "creating" ? undefined : ((await cleanV094Value(record.output, field("output"))) ?? {}),
    deps: [],
  };
  state.deps = [...deps].sort(compare);
  return { state, secrets };
}

async function openSecret(sealed: unknown, password: string, fqn: string, where: string, file: string): Promise<string> {
  const form = v094SecretForm(sealed);
  if (form.form === "unsupported") {
    throw new SecretError(
      `Cannot import ${fqn} (${file}): the secret at ${where} cannot be decrypted: ${form.why}. ` +
        "Deploy the stage once with Alchemy 0.94 (which encrypts it again in its current format), then import again. Nothing was changed.",
      "undecryptable",
    );
  }
  const plaintext = await openV094Cipher(form.cipher, password);
  if (plaintext === undefined) {
    throw new SecretError(
      `ALCHEMY_PASSWORD does not decrypt the secret at ${where} of ${fqn} (${file}): it is not the password Alchemy 0.94 encrypted it with. ` +
        "Set ALCHEMY_PASSWORD to the password the stage was deployed with. Nothing was changed.",
      "wrong-password",
    );
  }
  if (form.form === "string") return plaintext;
  const value: unknown = JSON.parse(plaintext);
  if (typeof value === "string") return value;
  throw new SecretError(
    `Cannot import ${fqn} (${file}): the secret at ${where} holds ${value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`}, ` +
      "and this engine's secrets are strings. Make it a string in the program (e.g. alchemy.secret(JSON.stringify(value))), " +
      "deploy once with Alchemy 0.94, then import again. Nothing was changed.",
    "undecryptable",
  );
}

/** Replaced instances 0.94 deletes at its next finalize: this engine would not know to. */
function refusePendingDeletions(file: V094File): void {
  const pending = (recordOf(file).data as { pendingDeletions?: unknown } | undefined)?.pendingDeletions;
  if (!Array.isArray(pending) || pending.length === 0) return;
  throw refuse(
    file,
    `it lists ${pending.length} replaced resource instance(s) that Alchemy 0.94 has not deleted yet (data.pendingDeletions). ` +
      "Run the program's deploy once more with Alchemy 0.94, which deletes them",
  );
}

function isScopeRecord(file: V094File): boolean {
  return recordOf(file).kind === SCOPE_KIND;
}

function recordOf(file: V094File): Record<string, unknown> {
  const value = file.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw refuse(file, "it is not a JSON object");
  return value as Record<string, unknown>;
}

function placeOf(file: V094File): string {
  return [...file.chain, file.id].join("/");
}

function refuse(file: V094File, why: string): StateStoreError {
  return new StateStoreError(`Cannot import ${placeOf(file)} (${file.file}) from Alchemy 0.94: ${why}. Nothing was changed.`, file.file);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
