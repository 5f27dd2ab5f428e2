import { describe, expect, it } from "vitest";
import { splitSql } from "./split-sql.js";

describe("splitSql", () => {
  it("splits statements at semicolons, across lines, dropping empty ones", () => {
    expect(splitSql("CREATE TABLE t (\n  a TEXT,\n  b INTEGER\n);\n\nINSERT INTO t VALUES ('x', 1);;\n")).toEqual([
      "CREATE TABLE t (\n  a TEXT,\n  b INTEGER\n)",
      "INSERT INTO t VALUES ('x', 1)",
    ]);
  });

  it("keeps semicolons inside strings, quoted names and comments", () => {
    expect(splitSql(`INSERT INTO "a;b" VALUES ('it''s; fine', [c;d], \`e;f\`); -- one; two\n/* three; */ SELECT 1`)).toEqual([
      `INSERT INTO "a;b" VALUES ('it''s; fine', [c;d], \`e;f\`)`,
      "-- one; two\n/* three; */ SELECT 1",
    ]);
  });

  it("keeps a trigger body (BEGIN ... END, with CASE ... END inside) in one statement", () => {
    const trigger = "CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = CASE WHEN n > 0 THEN n + 1 ELSE 1 END;\n  DELETE FROM c;\nEND";
    expect(splitSql(`${trigger};\nBEGIN TRANSACTION;\nCOMMIT;`)).toEqual([trigger, "BEGIN TRANSACTION", "COMMIT"]);
  });

  it("returns nothing for a script of comments and whitespace", () => {
    expect(splitSql("-- nothing\n/* at all */\n;\n")).toEqual([]);
  });
});
