import type { Dualstore } from "../client.js";
import { NotFoundError } from "../errors.js";

/**
 * The id of the user a `--user` flag names: an id, or an email (anything with an "@").
 * With `createIfMissing`, an email that names no user creates one, so a first ingest into a
 * fresh database needs no other tool.
 */
export async function resolveUserId(ds: Dualstore, reference: string, options: { createIfMissing: boolean }): Promise<string> {
  if (!reference.includes("@")) return (await ds.users.get(reference)).id;
  try {
    return (await ds.users.getByEmail(reference)).id;
  } catch (error) {
    if (!(error instanceof NotFoundError) || !options.createIfMissing) throw error;
    return (await ds.users.create({ email: reference })).id;
  }
}
