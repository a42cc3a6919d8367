// The upsert bodies dualstore writes for Pinecone itself: valid JSON that reads back as the
// SDK's body would, with every value the float32 Pinecone stores, within the sizes the batching
// counts on.
import { describe, expect, it } from "vitest";
import { ValidationError, type VectorRecord } from "../../src/index.js";
import { MAX_FLOAT32_BYTES, upsertBody, upsertRecordBytes, writeFloat32 } from "../../src/vector-stores/pinecone/upsert-body.js";
import { mulberry32 } from "../servers/faults.js";

const random = mulberry32(15);
/** A JSON number as the grammar allows it (RFC 8259, section 6). */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** Writes one value alone and returns its text. */
function written(value: number): string {
  const buffer = Buffer.alloc(32);
  return buffer.toString("latin1", 0, writeFloat32(buffer, 0, value));
}

/** Edge values, every power of ten float32 can hold (and its neighbours), random bit patterns. */
function samples(): number[] {
  const float32 = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0]!;
  const values = [
    0,
    -0,
    1,
    -1,
    0.1,
    1e-7,
    -1e-7,
    0.001,
    0.0009999999,
    0.01,
    0.1 - 1e-12,
    999_999_999.5,
    1e9,
    123_456_789.123,
    float32(0x00000001), // the smallest subnormal
    float32(0x007fffff), // the largest subnormal
    float32(0x00800000), // the smallest normal
    float32(0x7f7fffff), // the largest float32
    -float32(0x7f7fffff),
    Number.MIN_VALUE, // a double that rounds to 0 as a float32
  ];
  for (let exponent = -45; exponent <= 38; exponent++) {
    const power = Math.fround(10 ** exponent);
    values.push(power, Math.fround(power * (1 + 2 ** -23)), Math.fround(power * (1 - 2 ** -24)), -power);
  }
  for (let i = 0; i < 100_000; i++) {
    const bits = Math.floor(random() * 2 ** 32);
    const value = float32(bits);
    if (Number.isFinite(value)) values.push(value);
  }
  // Doubles as an embedder might return them, and dense embedding values (about ±1/√1536).
  for (let i = 0; i < 20_000; i++) values.push((random() - 0.5) * 10 ** Math.floor(random() * 12 - 8), Math.fround((random() - 0.5) / 20));
  return values;
}

describe("float32 values in Pinecone upsert bodies", () => {
  const values = samples();

  it("reads back as the very float32 Pinecone stores, for every value", () => {
    const wrong = values.filter((value) => Math.fround(Number(JSON.parse(written(value)))) !== Math.fround(value));
    expect(wrong).toEqual([]);
  });

  it("writes valid JSON numbers of at most MAX_FLOAT32_BYTES bytes", () => {
    const invalid = values.filter((value) => !JSON_NUMBER.test(written(value)));
    expect(invalid).toEqual([]);
    const longer = values.filter((value) => written(value).length > MAX_FLOAT32_BYTES);
    expect(longer).toEqual([]);
  });

  it("writes -0 as 0, as JSON.stringify does, and short values without padding", () => {
    expect(written(-0)).toBe("0");
    expect(written(1)).toBe("1");
    expect(written(-0.5)).toBe("-0.5");
    expect(written(2 ** -10)).toBe("9.765625e-4");
    expect(written(0.125)).toBe("0.125");
    expect(written(1e9)).toBe("1e9");
    expect(written(1234.5)).toBe("1234.5");
    // 9 significant digits: what float32 needs in the worst case, and not fewer for the others.
    expect(written(0.1)).toBe("0.100000001");
    expect(written(1e-7)).toBe("1.00000001e-7");
  });

  it("writes a dense embedding in two thirds of the bytes of JSON.stringify", () => {
    const dense = Array.from({ length: 1536 }, () => Math.fround((random() + random() + random() - 1.5) / 20));
    const body = upsertBody([{ id: "d", values: dense, metadata: {} }], "");
    const json = Buffer.byteLength(JSON.stringify({ vectors: [{ id: "d", values: dense }], namespace: "" }));
    expect(body.length).toBeLessThan(json * 0.67);
  });
});

describe("Pinecone upsert bodies", () => {
  const records: VectorRecord[] = [
    { id: "doc-1#1.ab", values: [0.25, -0.125, Math.fround(0.3)], metadata: { text: 'quotes " and \\ backslashes, é, 漢字, 🙂', tags: ["a", "b"], n: 3, ok: true } },
    { id: "doc-ü#2.cd", values: [1e-7, 0, -0], metadata: {} },
  ];

  it("reads back as the SDK's JSON body, with values as float32 and empty metadata left out", () => {
    const body = JSON.parse(upsertBody(records, "tenant-ä").toString("utf8")) as unknown;
    expect(body).toEqual({
      vectors: [
        { id: "doc-1#1.ab", values: [0.25, -0.125, Number(written(Math.fround(0.3)))], metadata: records[0]!.metadata },
        { id: "doc-ü#2.cd", values: [Number(written(1e-7)), 0, 0] },
      ],
      namespace: "tenant-ä",
    });
  });

  it("is never larger than the records' sizes add up to, and is the same when written again (a retry)", () => {
    const sizes = records.reduce((sum, record) => sum + upsertRecordBytes(record), 0);
    const first = upsertBody(records, "");
    expect(first.length).toBeLessThanOrEqual(sizes + 64);
    expect(upsertBody(records, "").equals(first)).toBe(true);
  });

  it("refuses a value that is not a finite number when sizing a record too", () => {
    expect(() => upsertRecordBytes({ id: "doc-9#1.ef", values: [Number.NaN], metadata: {} })).toThrow(ValidationError);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])("refuses a value of %s, naming the record and position", (bad) => {
    const error = (() => {
      try {
        upsertBody([{ id: "doc-9#1.ef", values: [0.5, bad], metadata: {} }], "");
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fields).toEqual(["doc-9#1.ef.values[1]"]);
  });
});
