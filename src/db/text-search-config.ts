/**
 * Which PostgreSQL text search configuration (stemmer and stop words) reads a document, from its
 * `language`: an ISO 639-1 code ("en", "pt-BR") or the configuration's own name ("english").
 * Anything else, or no language, is read with 'simple' (lower-cased words, no stemming). These
 * are the configurations every PostgreSQL since 13 ships.
 */
const CONFIGS_BY_CODE: Readonly<Record<string, string>> = {
  ar: "arabic",
  hy: "armenian",
  eu: "basque",
  ca: "catalan",
  da: "danish",
  nl: "dutch",
  en: "english",
  fi: "finnish",
  fr: "french",
  de: "german",
  el: "greek",
  hi: "hindi",
  hu: "hungarian",
  id: "indonesian",
  ga: "irish",
  it: "italian",
  lt: "lithuanian",
  ne: "nepali",
  no: "norwegian",
  nb: "norwegian",
  nn: "norwegian",
  pt: "portuguese",
  ro: "romanian",
  ru: "russian",
  sr: "serbian",
  es: "spanish",
  sv: "swedish",
  ta: "tamil",
  tr: "turkish",
  yi: "yiddish",
};

/** Every configuration a document can be read with. */
const TEXT_SEARCH_CONFIGS: readonly string[] = [...new Set([...Object.values(CONFIGS_BY_CODE), "simple"])].sort();

/**
 * A SQL expression of type regconfig for the language held by `column`. Literal casts only, so
 * the planner folds each branch once and the expression can sit in an index or a migration.
 */
export function textSearchConfigSql(column: string): string {
  const names = TEXT_SEARCH_CONFIGS.filter((name) => name !== "simple");
  const byName = names.map((name) => `'${name}'`).join(", ");
  const byCode = Object.entries(CONFIGS_BY_CODE)
    .map(([code, name]) => `WHEN '${code}' THEN '${name}'::regconfig`)
    .join(" ");
  return `(CASE WHEN lower(${column}) IN (${byName}) THEN lower(${column})::regconfig
     ELSE CASE split_part(replace(lower(coalesce(${column}, '')), '_', '-'), '-', 1) ${byCode} ELSE 'simple'::regconfig END END)`;
}
