import { ValidationError } from "../../errors.js";
import type { VectorRecord } from "../vector-store.js";

/**
 * Pinecone's upsert request body, written straight to bytes. Pinecone stores dense values as
 * float32, so each value is written as the float32 it will become, with 9 significant digits
 * (always enough for a float32 to read back exactly): about 13 bytes for a dense embedding's
 * value against about 20 from JSON.stringify, which prints every digit of the double. Bodies are
 * a third smaller, so requests are fewer, and nothing prints doubles or re-encodes a 2 MB string
 * to send it.
 */

const ZERO = 48;
const MINUS = 45;
const POINT = 46;
const EXPONENT = 101;
const COMMA = 44;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const CLOSE_BRACE = 125;

/** 10^0 … 10^60 as doubles (exact up to 10^22; the others are within one rounding, enough for 9 digits). */
const POWERS_OF_TEN = Array.from({ length: 61 }, (_, i) => Number(`1e${i}`));

/** The most bytes `writeFloat32` writes for one value: a sign, 9 digits, a point and an exponent ("e-45"). */
export const MAX_FLOAT32_BYTES = 15;

/**
 * Writes `value`, rounded to float32, as a JSON number at `offset`; returns the offset after it.
 * -0 is written as 0 (as JSON.stringify does). The caller has checked that the value is finite.
 */
export function writeFloat32(buffer: Buffer, offset: number, value: number): number {
  const f = Math.fround(value);
  if (f === 0) {
    buffer[offset] = ZERO;
    return offset + 1;
  }
  let pos = offset;
  let a = f;
  if (f < 0) {
    buffer[pos++] = MINUS;
    a = -f;
  }
  // The decimal exponent: embedding values are almost all between 0.001 and 1, so look there first
  // (log10 may be one off near a power of ten: the digit count corrects it).
  let exponent = a >= 1e-3 && a < 1 ? (a >= 0.1 ? -1 : a >= 0.01 ? -2 : -3) : Math.floor(Math.log10(a));
  let scaled = scaledBy(a, exponent);
  if (scaled < 99_999_999.5) scaled = scaledBy(a, --exponent);
  else if (scaled >= 999_999_999.5) scaled = scaledBy(a, ++exponent);
  if (scaled >= 999_999_999.5) {
    // Rounding carries into a tenth digit: the value rounds to the next power of ten.
    scaled = 1e8;
    exponent++;
  }
  // Rounded to 9 digits, below 1e9: an int32. Trailing zeros carry nothing.
  let digits = (scaled + 0.5) | 0;
  let count = 9;
  for (let q = (digits / 10) | 0; count > 1 && digits === q * 10; q = (digits / 10) | 0) {
    digits = q;
    count--;
  }
  if (exponent >= -3 && exponent < 0) {
    // 0.0ddd
    buffer[pos++] = ZERO;
    buffer[pos++] = POINT;
    for (let i = -1; i > exponent; i--) buffer[pos++] = ZERO;
    return writeDigits(buffer, pos, digits, count);
  }
  if (exponent >= 0 && exponent < 9) {
    const integer = exponent + 1;
    if (count <= integer) {
      // ddd000
      pos = writeDigits(buffer, pos, digits, count);
      for (let i = count; i < integer; i++) buffer[pos++] = ZERO;
      return pos;
    }
    // ddd.ddd: the fraction first, then the integer part before the point.
    const fraction = count - integer;
    const divisor = POWERS_OF_TEN[fraction]!;
    const high = Math.floor(digits / divisor);
    pos = writeDigits(buffer, pos, high, integer);
    buffer[pos++] = POINT;
    return writeDigits(buffer, pos, digits - high * divisor, fraction);
  }
  // d.ddde-N
  const lead = Math.floor(digits / POWERS_OF_TEN[count - 1]!);
  buffer[pos++] = ZERO + lead;
  if (count > 1) {
    buffer[pos++] = POINT;
    pos = writeDigits(buffer, pos, digits - lead * POWERS_OF_TEN[count - 1]!, count - 1);
  }
  buffer[pos++] = EXPONENT;
  let e = exponent;
  if (e < 0) {
    buffer[pos++] = MINUS;
    e = -e;
  }
  return writeDigits(buffer, pos, e, e >= 10 ? 2 : 1);
}

/** Writes `value` (a non-negative int32) as exactly `count` decimal digits, leading zeros included. */
function writeDigits(buffer: Buffer, offset: number, value: number, count: number): number {
  const end = offset + count;
  let rest = value;
  for (let pos = end - 1; pos >= offset; pos--) {
    const q = (rest / 10) | 0;
    buffer[pos] = ZERO + rest - q * 10;
    rest = q;
  }
  return end;
}

/** `a` (positive) times 10^(8 - exponent): from 1e8 to 1e9 when `exponent` is its decimal exponent. */
function scaledBy(a: number, exponent: number): number {
  const shift = 8 - exponent;
  return shift >= 0 ? a * POWERS_OF_TEN[shift]! : a / POWERS_OF_TEN[-shift]!;
}

/**
 * Values encoded by `upsertRecordBytes`, until `upsertBody` writes them: the managed store sizes
 * every record just before sending it, and the size is the encoding's, so each value is printed
 * once. Keyed by the values array, taken once (a retry encodes again).
 */
const encodedValues = new WeakMap<readonly number[], Buffer>();
/** Where values are encoded before being copied out at their exact length (grows as needed). */
let scratch = Buffer.allocUnsafe(0);

/** `[v,v,…]`, each value as `writeFloat32` writes it; refuses a value that is not a finite number. */
function encodeValues(record: VectorRecord): Buffer {
  const values = record.values;
  const bound = 2 + values.length * (MAX_FLOAT32_BYTES + 1);
  if (scratch.length < bound) scratch = Buffer.allocUnsafe(bound);
  let pos = 0;
  scratch[pos++] = OPEN_BRACKET;
  for (let j = 0; j < values.length; j++) {
    const value = values[j]!;
    if (!Number.isFinite(value)) {
      throw new ValidationError("vector record", [{ path: `${record.id}.values[${j}]`, message: `must be a finite number, got ${String(value)}` }]);
    }
    if (j > 0) scratch[pos++] = COMMA;
    pos = writeFloat32(scratch, pos, value);
  }
  scratch[pos++] = CLOSE_BRACKET;
  const encoded = Buffer.allocUnsafe(pos);
  scratch.copy(encoded, 0, 0, pos);
  return encoded;
}

/** Bytes `record` takes in a body written by `upsertBody`: its values are encoded here, once. */
export function upsertRecordBytes(record: VectorRecord): number {
  const values = encodeValues(record);
  encodedValues.set(record.values, values);
  const metadata = metadataJson(record);
  return 32 + Buffer.byteLength(JSON.stringify(record.id), "utf8") + values.length + (metadata === undefined ? 0 : Buffer.byteLength(metadata, "utf8"));
}

/**
 * `{"vectors":[{"id":…,"values":[…],"metadata":{…}},…],"namespace":…}` as bytes: what the SDK
 * would send, with every value written as its float32. Empty metadata is left out (Pinecone then
 * stores none, which reads back as {}). A value that is not a finite number is refused.
 */
export function upsertBody(records: readonly VectorRecord[], namespace: string): Buffer {
  const parts = records.map((record) => {
    const values = encodedValues.get(record.values) ?? encodeValues(record);
    encodedValues.delete(record.values);
    return { id: JSON.stringify(record.id), values, metadata: metadataJson(record) };
  });
  const namespaceJson = JSON.stringify(namespace);
  let bytes = 32 + Buffer.byteLength(namespaceJson, "utf8");
  for (const { id, values, metadata } of parts) {
    bytes += 32 + Buffer.byteLength(id, "utf8") + values.length + (metadata === undefined ? 0 : Buffer.byteLength(metadata, "utf8"));
  }
  const buffer = Buffer.allocUnsafe(bytes);
  let pos = buffer.write('{"vectors":[', 0, "latin1");
  parts.forEach(({ id, values, metadata }, i) => {
    if (i > 0) buffer[pos++] = COMMA;
    pos += buffer.write('{"id":', pos, "latin1");
    pos += buffer.write(id, pos, "utf8");
    pos += buffer.write(',"values":', pos, "latin1");
    pos += values.copy(buffer, pos);
    if (metadata !== undefined) {
      pos += buffer.write(',"metadata":', pos, "latin1");
      pos += buffer.write(metadata, pos, "utf8");
    }
    buffer[pos++] = CLOSE_BRACE;
  });
  pos += buffer.write('],"namespace":', pos, "latin1");
  pos += buffer.write(namespaceJson, pos, "utf8");
  buffer[pos++] = CLOSE_BRACE;
  return buffer.subarray(0, pos);
}

function metadataJson(record: VectorRecord): string | undefined {
  for (const _key in record.metadata) return JSON.stringify(record.metadata);
  return undefined;
}
