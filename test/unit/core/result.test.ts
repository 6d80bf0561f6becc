import { describe, expect, it } from "vitest";
import { err, ok } from "../../../src/core/result";

describe("Result", () => {
  it("wraps values and errors as a discriminated union", () => {
    expect(ok(3)).toEqual({ ok: true, value: 3 });
    expect(err("bad")).toEqual({ ok: false, error: "bad" });
  });
});
