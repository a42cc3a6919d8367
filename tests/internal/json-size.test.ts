import { describe, expect, it } from "vitest";
import { jsonNumberArrayBytes, jsonNumberBytes } from "../../src/internal/json-size.js";
import { mulberry32 } from "../servers/faults.js";

const random = mulberry32(15);

/** Doubles across every range JSON.stringify prints differently, with float32 values as embedders return them. */
function samples(): number[] {
  const values = [0, -0, 1, -1, 0.1, 1e-6, 9.999999e-7, 1e-7, 1e17, 1e21, 1e22, Number.MIN_VALUE, -Number.MAX_VALUE, 123456789.123, 2 ** 53];
  for (let exponent = -40; exponent <= 25; exponent++) {
    for (let i = 0; i < 50; i++) {
      const value = (random() * 9 + 1) * 10 ** exponent * (random() < 0.5 ? -1 : 1);
      values.push(value, Math.fround(value));
    }
  }
  return values;
}

describe("JSON size bounds", () => {
  it("never count fewer bytes than JSON.stringify prints for a number", () => {
    for (const value of samples()) expect(jsonNumberBytes(value), String(value)).toBeGreaterThanOrEqual(JSON.stringify(value).length);
  });

  it("bound a dense unit vector within 5% of its serialized size", () => {
    const values = Array.from({ length: 1536 }, () => Math.fround((random() + random() + random() - 1.5) / 20));
    const actual = JSON.stringify(values).length;
    expect(jsonNumberArrayBytes(values)).toBeGreaterThanOrEqual(actual);
    expect(jsonNumberArrayBytes(values)).toBeLessThan(actual * 1.05);
  });
});
