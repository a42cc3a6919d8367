// Types for scripts/build-if-stale.mjs, which tests import.

/** Builds dist/ unless it is newer than every input; one process at a time. Returns whether it built. */
export function buildIfStale(): boolean;
