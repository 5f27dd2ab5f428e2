/**
 * Splits a SQL script into statements at the `;` that end them. D1's `exec`
 * on Miniflare splits at line ends instead (a statement over several lines
 * fails), so migrations are split here and run as one batch.
 *
 * @module
 */

/**
 * The statements of `sql`, without their `;`, skipping empty ones. A `;`
 * inside a string, quoted name, comment or the body of a `CREATE TRIGGER`
 * (`BEGIN ... END`) does not end a statement.
 *
 * @example
 * splitSql("CREATE TABLE t (a TEXT);\nINSERT INTO t VALUES ('x;y');");
 * // ["CREATE TABLE t (a TEXT)", "INSERT INTO t VALUES ('x;y')"]
 */
export function splitSql(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let depth = 0;
  let words: string[] = [];
  let i = 0;
  const finish = (end: number) => {
    const statement = sql.slice(start, end).trim();
    if (hasCode(statement)) statements.push(statement);
    start = end + 1;
    depth = 0;
    words = [];
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"' || ch === "`") i = skipQuoted(sql, i, ch);
    else if (ch === "[") i = skipTo(sql, i + 1, "]");
    else if (ch === "-" && sql[i + 1] === "-") i = skipTo(sql, i + 2, "\n");
    else if (ch === "/" && sql[i + 1] === "*") i = skipTo(sql, i + 2, "*/");
    else if (/[A-Za-z_]/.test(ch)) {
      const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i))![0];
      const upper = word.toUpperCase();
      if (words.length < 4) words.push(upper);
      // Only a trigger's body holds statements; CASE ... END nests inside it.
      if (isTrigger(words)) {
        if (upper === "BEGIN" || upper === "CASE") depth++;
        else if (upper === "END" && depth > 0) depth--;
      }
      i += word.length;
    } else if (ch === ";" && depth === 0) {
      finish(i);
      i++;
    } else i++;
  }
  finish(sql.length);
  return statements;
}

function isTrigger(words: string[]): boolean {
  if (words[0] !== "CREATE") return false;
  return words[1] === "TRIGGER" || ((words[1] === "TEMP" || words[1] === "TEMPORARY") && words[2] === "TRIGGER");
}

/** Index just past the closing quote (a doubled quote is an escaped one). */
function skipQuoted(sql: string, open: number, quote: string): number {
  let i = open + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return i;
}

function skipTo(sql: string, from: number, end: string): number {
  const found = sql.indexOf(end, from);
  return found === -1 ? sql.length : found + end.length;
}

/** Whether a statement holds anything but whitespace and comments. */
function hasCode(statement: string): boolean {
  return statement.replace(/--[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "").trim() !== "";
}
