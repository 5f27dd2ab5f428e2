/**
 * Props, outputs and data of Alchemy 0.94 records, made into this engine's
 * values. What 0.94's `serialize` wrote, and what each becomes:
 *
 * | 0.94 wrote | becomes |
 * |---|---|
 * | `"Symbol(alchemy::ResourceFQN)": "app/prod/db"` and the other `Symbol(...)` keys | dropped: symbol-keyed properties are not data here |
 * | an object with those keys inside props: a copy of another resource's output | the copy without them, as this engine stores an output passed as a prop; its fqn is a dependency |
 * | `{ "@secret": ... }` | a {@link Secret}, decrypted with the password (sealed again when stored) |
 * | `{ "@date": iso }`, `{ "@buffer": base64 }` | the string (this engine stores no Dates or buffers; the program passes the string) |
 * | `{ "@schema": json }` | the JSON, as 0.94 read it back |
 * | `{ "@symbol": ... }` or `{ "@scope": null }` outside a symbol key | refused: this engine cannot store a symbol or a scope |
 *
 * Dependencies are taken only from the outermost copies in props: this
 * engine records the resources whose outputs a program passes, not those
 * nested in their outputs.
 *
 * @module
 */
import { StateStoreError } from "../../core/errors.js";
import { Secret } from "../../core/secrets/secret.js";
import { formatPath } from "../../core/storable.js";
import { putEntry } from "../state-record.js";

const SYMBOL_KEY = /^Symbol\(.*\)$/;
const FQN_KEY = "Symbol(alchemy::ResourceFQN)";
const KIND_KEY = "Symbol(alchemy::ResourceKind)";
const SCOPE_KIND = "alchemy::Scope";

/** How one field of one record is cleaned. */
export interface V094Field {
  /** The record's fqn, for messages. */
  fqn: string;
  /** The record's file, for errors. */
  file: string;
  root: "props" | "output" | "data";
  /** Where the fqns of embedded resource outputs go (props only). */
  deps?: Set<string>;
  /** Opens one `@secret` value; `where` is its path, e.g. `props.db.password`. */
  openSecret(sealed: unknown, where: string): Promise<Secret>;
  /** Records what was changed beyond dropping symbols, for the command's report. */
  note(message: string): void;
}

/**
 * `value` with 0.94's serialization undone into this engine's values (see the
 * module's table). Rejects with a {@link StateStoreError} naming the file and
 * path of a value this engine cannot store.
 *
 * @example
 * await cleanV094Value({ db: { name: "orders", "Symbol(alchemy::ResourceFQN)": "app/prod/db" } }, field);
 * // { db: { name: "orders" } }, and field.deps now holds "app/prod/db"
 */
export async function cleanV094Value(value: unknown, field: V094Field): Promise<unknown> {
  const clean = async (value: unknown, path: (string | number)[], collect: boolean): Promise<unknown> => {
    if (Array.isArray(value)) return Promise.all(value.map((item, i) => clean(item, [...path, i], collect)));
    if (value === null || typeof value !== "object") return value;
    const obj = value as Record<string, unknown>;
    const where = formatPath(field.root, path);
    // The same order of checks as 0.94's deserialize.
    if (obj["@secret"]) return field.openSecret(obj["@secret"], where);
    if ("@schema" in obj) return obj["@schema"];
    if ("@date" in obj) {
      field.note(`${field.fqn} ${where}: a Date, kept as its ISO string ${JSON.stringify(obj["@date"])} (pass date.toISOString() in the program)`);
      return obj["@date"];
    }
    if ("@symbol" in obj) throw unstorable(field, where, `a symbol (${String(obj["@symbol"])})`, "Pass a string instead.");
    if ("@scope" in obj) throw unstorable(field, where, "a scope", "Pass the values the resource needs instead of the scope.");
    if ("@buffer" in obj) {
      field.note(`${field.fqn} ${where}: a buffer, kept as its base64 string (pass buffer.toString("base64") in the program)`);
      return obj["@buffer"];
    }
    let inner = collect;
    const fqn = obj[FQN_KEY];
    if (collect && typeof fqn === "string" && fqn !== "" && obj[KIND_KEY] !== SCOPE_KIND) {
      field.deps!.add(fqn);
      inner = false;
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(obj)) {
      if (SYMBOL_KEY.test(key)) continue;
      putEntry(out, key, await clean(item, [...path, key], inner));
    }
    return out;
  };
  return clean(value, [], field.deps !== undefined);
}

/**
 * Paths of the `@secret` values in `value` (as 0.94's deserialize finds them),
 * for counting before any is decrypted.
 *
 * @example
 * findV094Secrets({ env: { TOKEN: { "@secret": { ... } } } }, "props"); // ["props.env.TOKEN"]
 */
export function findV094Secrets(value: unknown, root: string): string[] {
  const found: string[] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    if (Array.isArray(value)) return value.forEach((item, i) => walk(item, [...path, i]));
    if (value === null || typeof value !== "object") return;
    const obj = value as Record<string, unknown>;
    if (obj["@secret"]) return void found.push(formatPath(root, path));
    if ("@schema" in obj || "@date" in obj || "@symbol" in obj || "@scope" in obj || "@buffer" in obj) return;
    for (const [key, item] of Object.entries(obj)) walk(item, [...path, key]);
  };
  walk(value, []);
  return found;
}

function unstorable(field: V094Field, where: string, what: string, fix: string): StateStoreError {
  return new StateStoreError(
    `Cannot import ${field.fqn} (${field.file}): ${where} is ${what}, which this engine cannot store. ${fix} ` +
      "Change the program, deploy it once more with Alchemy 0.94, then import again. Nothing was changed.",
    field.file,
  );
}
