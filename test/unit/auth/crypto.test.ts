import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/auth/crypto";
import { randomToken } from "../../../src/shared/ids";
import { hashProxyKey } from "../../../src/auth/proxyKeys";

describe("randomToken", () => {
  it("gives two hex digits per byte and never repeats across pool refills", () => {
    const seen = new Set<string>();
    // 12 bytes each: well past several 4 KiB refills of the pool.
    for (let i = 0; i < 5000; i++) {
      const token = randomToken(12);
      expect(token).toMatch(/^[0-9a-f]{24}$/);
      seen.add(token);
    }
    expect(seen.size).toBe(5000);
  });

  it("serves sizes larger than the pool directly", () => {
    expect(randomToken(5000)).toMatch(/^[0-9a-f]{10000}$/);
  });

  it("uses every byte value (the hex table covers 0–255)", () => {
    const digits = new Set(randomToken(4096).match(/../g));
    expect(digits.size).toBeGreaterThan(250);
  });
});

describe("hashProxyKey", () => {
  it("is the SHA-256 of the key in hex, the same from the cache as fresh", async () => {
    const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    expect(await sha256Hex("abc")).toBe(abc);
    expect(await hashProxyKey("abc")).toBe(abc);
    expect(await hashProxyKey("abc")).toBe(abc);
  });

  it("keeps answering correctly when more keys are seen than it caches", async () => {
    const keys = Array.from({ length: 1500 }, (_, i) => `tfg_${String(i).padStart(32, "0")}`);
    for (const k of keys) await hashProxyKey(k);
    for (const k of [keys[0]!, keys[700]!, keys[1499]!]) expect(await hashProxyKey(k)).toBe(await sha256Hex(k));
  });
});
