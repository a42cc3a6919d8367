import { describe, expect, it } from "vitest";
import { redactingLogger, type LogFields } from "../../src/core/logger.js";
import { redact, redactUrl, registerSecret } from "../../src/core/redact.js";

describe("redaction", () => {
  it("masks registered secrets wherever they appear", () => {
    registerSecret("registered-secret-value-123");
    expect(redact("401: key registered-secret-value-123 was rejected")).toBe("401: key [redacted] was rejected");
  });

  it("masks the usual shapes of secrets even when unregistered", () => {
    const cases = [
      "Authorization: Bearer abcdefghijklmnop",
      'headers: {"api-key":"zyxwvutsrqpo"}',
      "used sk-proj-ABCDEFGHIJKLMNOP to call",
      "pinecone pcsk_12345678901234567890",
      "postgresql://app:hunter2hunter2@db.internal:5432/app",
    ];
    for (const text of cases) {
      const masked = redact(text);
      expect(masked).toContain("[redacted]");
      expect(masked).not.toMatch(/abcdefghijklmnop|zyxwvutsrqpo|ABCDEFGHIJKLMNOP|12345678901234567890|hunter2hunter2/);
    }
    expect(redactUrl("postgres://user:pw-secret@host/db")).not.toContain("pw-secret");
  });

  it("cleans what a logger receives, messages and fields, errors included", () => {
    registerSecret("logged-secret-value-456");
    const seen: string[] = [];
    const sink = (message: string, fields?: LogFields) => seen.push(`${message} ${JSON.stringify(fields)}`);
    const logger = redactingLogger({ debug: sink, info: sink, warn: sink, error: sink });
    logger.error("failed with logged-secret-value-456", { error: new Error("boom logged-secret-value-456"), nested: { key: "logged-secret-value-456" } });
    expect(seen.join("\n")).not.toContain("logged-secret-value-456");
    expect(seen.join("\n")).toContain("boom [redacted]");
  });
});
