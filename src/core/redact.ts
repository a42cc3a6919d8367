/**
 * Secrets must never reach an error message, a log line or a health report. Known secret
 * values (API keys and passwords from the options) are registered here once; `redact()` also
 * masks the shapes secrets usually take in provider messages (Bearer tokens, key headers,
 * passwords inside connection strings).
 */
const knownSecrets = new Set<string>();

/** Registers a secret value so that every later `redact()` masks it. Short values are ignored. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 6) knownSecrets.add(value);
}

const patterns: ReadonlyArray<[RegExp, string]> = [
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]{6,}/gi, "$1[redacted]"],
  [/((?:api[-_]?key|authorization|x-api-key|token)["']?\s*[:=]\s*["']?)[^\s"',;}]{6,}/gi, "$1[redacted]"],
  [/\b(sk|pcsk|rk)[-_][A-Za-z0-9_-]{10,}/g, "[redacted]"],
  [/(postgres(?:ql)?:\/\/[^:/?#\s@]+:)[^@\s]+@/gi, "$1[redacted]@"],
];

export function redact(text: string): string {
  let out = text;
  for (const secret of knownSecrets) out = out.split(secret).join("[redacted]");
  for (const [pattern, replacement] of patterns) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A message fit to show, at most `maxLength` characters: secrets are masked first, then the text
 * is cut. Cutting first could keep the head of a secret whose whole no longer matches.
 */
export function redactAndClip(text: string, maxLength: number): string {
  const masked = redact(text);
  return masked.length <= maxLength ? masked : `${masked.slice(0, maxLength - 1)}…`;
}

/** A connection string fit for display: the password, if any, masked. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return parsed.toString();
    // A URL would percent-encode brackets in the password; the mask is put in after serialising.
    parsed.password = "REDACTED";
    return parsed.toString().replace(":REDACTED@", ":[redacted]@");
  } catch {
    return redact(url);
  }
}
