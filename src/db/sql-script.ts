/**
 * Splits a PostgreSQL script into its statements, so that a migration can run through any
 * driver adapter, including those that only prepare one statement at a time (PGlite's).
 *
 * Semicolons inside string literals ('...', E'...'), quoted identifiers ("..."), dollar-quoted
 * bodies ($$...$$, $tag$...$tag$) and comments (-- and nested /* *\/) do not end a statement.
 * Statements holding nothing but comments and whitespace are dropped.
 */
export function splitSqlStatements(script: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  let hasCode = false;
  const n = script.length;

  while (i < n) {
    const ch = script[i]!;
    const next = script[i + 1];

    if (ch === "-" && next === "-") {
      const end = script.indexOf("\n", i);
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (ch === "/" && next === "*") {
      i = skipBlockComment(script, i);
      continue;
    }
    if (ch === "'") {
      const escapes = i > 0 && /[eE]/.test(script[i - 1]!) && !/[\w$]/.test(script[i - 2] ?? " ");
      i = skipQuoted(script, i, "'", escapes);
      hasCode = true;
      continue;
    }
    if (ch === '"') {
      i = skipQuoted(script, i, '"', false);
      hasCode = true;
      continue;
    }
    if (ch === "$") {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(script.slice(i, i + 64));
      // `$1` is a parameter and `a$b` an identifier, not a dollar quote.
      if (tag && !/[\w$]/.test(script[i - 1] ?? " ")) {
        const close = script.indexOf(tag[0], i + tag[0].length);
        i = close === -1 ? n : close + tag[0].length;
        hasCode = true;
        continue;
      }
    }
    if (ch === ";") {
      if (hasCode) statements.push(script.slice(start, i).trim());
      start = i + 1;
      hasCode = false;
      i++;
      continue;
    }
    if (!/\s/.test(ch)) hasCode = true;
    i++;
  }
  if (hasCode) statements.push(script.slice(start).trim());
  return statements;
}

function skipBlockComment(script: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < script.length) {
    if (script[i] === "/" && script[i + 1] === "*") {
      depth++;
      i += 2;
    } else if (script[i] === "*" && script[i + 1] === "/") {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return script.length;
}

function skipQuoted(script: string, from: number, quote: string, backslashEscapes: boolean): number {
  let i = from + 1;
  while (i < script.length) {
    const ch = script[i];
    if (backslashEscapes && ch === "\\") {
      i += 2;
      continue;
    }
    if (ch === quote) {
      // A doubled quote is an escaped quote, not the end.
      if (script[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return script.length;
}
