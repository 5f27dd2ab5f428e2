/**
 * A Cloudflare D1 database (SQLite at the edge), locally a SQLite file under
 * `.alchemy/~local/`.
 *
 * @module
 */
import path from "node:path";
import { currentScope } from "../../core/context.js";
import type { Context } from "../../core/handler-context.js";
import { ResourceError } from "../../core/errors.js";
import { Resource, type PlanContext } from "../../core/resource.js";
import type { BackendMode, D1Result } from "./backend.js";
import { backendOf, deleteRecorded, checkSwitch, ensureLocal, madeBy, modeOf, readRecorded, type Recorded } from "./backend-of.js";
import { applyMigrations, migrationFiles, type MigrationFile } from "./d1-migrations.js";
import { noteSources } from "./dev-sources.js";
import { D1_NAME, nameOf } from "./names.js";
import { withMethods } from "./output-methods.js";

/** Props of a {@link D1Database}. */
export interface D1DatabaseProps {
  /** The database's name. @default derived from app, scopes, id and stage (names.ts) */
  name?: string;
  /**
   * Directory of `.sql` migrations, relative to the application's rootDir:
   * applied once each, in name order, on create and whenever a new file
   * appears; tracked in the database's `d1_migrations` table.
   */
  migrationsDir?: string;
  /** Where the database should live (remote only), e.g. "weur". */
  locationHint?: string;
  /**
   * Another name is another database: the new one is created empty and the old
   * one, with its data, deleted. Refused unless this says the loss is accepted.
   * @default undefined (a change of name fails before anything is touched)
   */
  replace?: "allow";
}

/** Output of a {@link D1Database}: what a Worker binding needs. */
export interface D1Database {
  name: string;
  /** The database's id (a uuid on Cloudflare, `local-<name>` locally). */
  id: string;
  backend: BackendMode;
}

/** What a program can do with a database it declared. */
export interface D1DatabaseMethods {
  /** Runs statements separated by `;`, with no parameters. */
  exec(sql: string): Promise<void>;
  /** Runs one statement with `?` parameters; resolves its rows. */
  query<Row = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<D1Result<Row>>;
}

interface RecordedProps extends D1DatabaseProps, Recorded {
  /** The migration files when the program ran: a new or edited file changes the props, so the handler runs. */
  migrations?: MigrationFile[];
}

const D1DatabaseResource = Resource(
  "cloudflare::D1Database",
  {
    // Nothing alchemy manages can change in place (the API renames no database); its migrations are data, not read.
    read(this: Context<D1Database, RecordedProps>): Promise<D1Database> {
      return readRecorded(this, { kind: "d1", id: this.output.id }, () => this.output);
    },
    replaceOnChanges(this: PlanContext<D1Database, RecordedProps>, props: RecordedProps): boolean {
      if (this.output === undefined) return false;
      const name = nameOf(this.fqn, props?.name, D1_NAME, "update");
      if (name === this.output.name) return false;
      if (props?.replace === "allow") return true;
      throw new ResourceError(
        `D1Database ${this.fqn}: the name changes (${this.output.name} -> ${name}), which makes another, empty database and deletes ` +
          `${this.output.name} with its data. Nothing was changed. To go ahead, set replace: "allow" on it; to keep the data, keep the name.`,
        this.fqn,
        "update",
      );
    },
  },
  async function (this: Context<D1Database, RecordedProps>, id: string, props: RecordedProps): Promise<D1Database> {
    const backend = await backendOf(this.scope, this.fqn, this.phase);
    if (this.phase === "delete") return deleteRecorded(this, backend, (output) => backend.deleteD1Database(output));
    checkSwitch(this.output, backend.mode, this.fqn);
    const name = nameOf(this.fqn, props?.name, D1_NAME, this.phase === "update" ? "update" : "create");
    const database = madeBy(this.output, backend.mode)
      ? this.output
      : { name, ...(await backend.createD1Database(name, { locationHint: props?.locationHint, adopt: this.adopt })), backend: backend.mode };
    if (props?.migrationsDir !== undefined) {
      await applyMigrations(backend, database, path.resolve(this.scope.rootDir, props.migrationsDir), this.fqn, this.output ? "update" : "create", props.migrations);
    }
    return { name: database.name, id: database.id, backend: backend.mode };
  },
);

/**
 * A D1 database. Bind it to a Worker (`bindings: { DB: db }`), or use it from
 * the program: `await db.exec("CREATE TABLE ...")`, `(await db.query("SELECT ...")).rows`.
 *
 * @example
 * const db = await D1Database("api-db", { migrationsDir: "./migrations" });
 */
export async function D1Database(id: string, props: D1DatabaseProps = {}): Promise<D1Database & D1DatabaseMethods> {
  const scope = currentScope();
  const migrations =
    props.migrationsDir !== undefined && scope !== undefined && scope.phase !== "destroy"
      ? await migrationFiles(path.resolve(scope.rootDir, props.migrationsDir), `${scope.path}/${id}`)
      : undefined;
  if (props.migrationsDir !== undefined && scope !== undefined) await noteSources(scope, [path.resolve(scope.rootDir, props.migrationsDir)]);
  const output = await D1DatabaseResource(id, { ...props, ...(migrations ? { migrations } : {}), backend: modeOf(scope) });
  await ensureLocal(scope, `${scope?.path}/${id}`, output, (backend) => backend.createD1Database(output.name, { adopt: true }));
  const fqn = () => `${scope?.path}/${id}`;
  return withMethods(output, fqn, (backend) => ({
    exec: async (sql: string) => (await backend()).execD1(output, sql),
    query: async <Row,>(sql: string, ...params: unknown[]) => (await backend()).queryD1<Row>(output, sql, params),
  }));
}
D1Database.kind = D1DatabaseResource.kind;
