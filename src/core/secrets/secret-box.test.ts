import { describe, expect, it } from "vitest";
import { envelopeKeyId, newKey, open, openKey, seal } from "./secret-box.js";

describe("secret box", () => {
  it("seals with a fresh IV each time and opens only with the same key and associated data", async () => {
    const { record, key } = await newKey("correct horse", "app/dev");
    const a = seal(key, "s3cr3t", "app/dev/db\nprops.password");
    const b = seal(key, "s3cr3t", "app/dev/db\nprops.password");
    expect(a).not.toBe(b);
    expect(a).not.toContain("s3cr3t");
    expect(envelopeKeyId(a)).toBe(record.id);
    expect(open(key, a, "app/dev/db\nprops.password")).toBe("s3cr3t");
    expect(open(key, a, "app/dev/api\nprops.password")).toBeUndefined();
    expect(open(key, a, "app/prod/db\nprops.password")).toBeUndefined();
    const tampered = a.slice(0, -3) + (a.endsWith("A") ? "BBB" : "AAA");
    expect(open(key, tampered, "app/dev/db\nprops.password")).toBeUndefined();
  });

  it("rederives the key from the password and salt, and tells a wrong password by the verifier", async () => {
    const { record, key } = await newKey("correct horse", "app/dev");
    const again = await openKey("correct horse", record, "app/dev");
    expect(again?.key.equals(key.key)).toBe(true);
    expect(await openKey("wrong", record, "app/dev")).toBeUndefined();
    expect(await openKey("correct horse", record, "app/prod")).toBeUndefined();
    expect(record.kdf).toEqual({ N: 32768, r: 8, p: 1 });
  });
});
