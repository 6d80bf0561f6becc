import { describe, expect, it } from "vitest";
import type { Descriptors } from "../../../scripts/lib/descriptors";
import { descriptorPressure } from "../../../scripts/start/stack";

const proc = (pid: number, total: number): Descriptors => ({
  pid,
  name: "workerd",
  command: "workerd serve",
  total,
  sockets: 0,
  sqlite: total,
  other: 0,
});

describe("descriptorPressure", () => {
  const limits = new Map([
    [1, 20_000],
    [2, 1_000],
  ]);
  const limit = (pid: number) => limits.get(pid) ?? null;

  it("is null while every workerd process stays under its share of its open-file limit", () => {
    expect(descriptorPressure([proc(1, 11_999), proc(2, 600)], limit, 0.6)).toBeNull();
  });

  it("names the process past its share, with its count and limit", () => {
    expect(descriptorPressure([proc(1, 500), proc(2, 601)], limit, 0.6)).toBe(
      "a workerd process holds 601 open files of its limit of 1000",
    );
  });

  it("ignores a process whose limit cannot be read", () => {
    expect(descriptorPressure([proc(3, 1_000_000)], limit, 0.6)).toBeNull();
  });
});
