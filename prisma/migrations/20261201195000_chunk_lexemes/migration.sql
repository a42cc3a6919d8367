-- AlterTable
ALTER TABLE "DocumentChunk" ADD COLUMN     "lexemes" tsvector;

-- CreateIndex
CREATE INDEX "DocumentChunk_lexemes_idx" ON "DocumentChunk" USING GIN ("lexemes");

-- Backfill: the lexemes of chunks indexed before this migration, read as their document's language.
UPDATE "DocumentChunk" k SET "lexemes" = to_tsvector((CASE WHEN lower(d."language") IN ('arabic', 'armenian', 'basque', 'catalan', 'danish', 'dutch', 'english', 'finnish', 'french', 'german', 'greek', 'hindi', 'hungarian', 'indonesian', 'irish', 'italian', 'lithuanian', 'nepali', 'norwegian', 'portuguese', 'romanian', 'russian', 'serbian', 'spanish', 'swedish', 'tamil', 'turkish', 'yiddish') THEN lower(d."language")::regconfig
     ELSE CASE split_part(replace(lower(coalesce(d."language", '')), '_', '-'), '-', 1) WHEN 'ar' THEN 'arabic'::regconfig WHEN 'hy' THEN 'armenian'::regconfig WHEN 'eu' THEN 'basque'::regconfig WHEN 'ca' THEN 'catalan'::regconfig WHEN 'da' THEN 'danish'::regconfig WHEN 'nl' THEN 'dutch'::regconfig WHEN 'en' THEN 'english'::regconfig WHEN 'fi' THEN 'finnish'::regconfig WHEN 'fr' THEN 'french'::regconfig WHEN 'de' THEN 'german'::regconfig WHEN 'el' THEN 'greek'::regconfig WHEN 'hi' THEN 'hindi'::regconfig WHEN 'hu' THEN 'hungarian'::regconfig WHEN 'id' THEN 'indonesian'::regconfig WHEN 'ga' THEN 'irish'::regconfig WHEN 'it' THEN 'italian'::regconfig WHEN 'lt' THEN 'lithuanian'::regconfig WHEN 'ne' THEN 'nepali'::regconfig WHEN 'no' THEN 'norwegian'::regconfig WHEN 'nb' THEN 'norwegian'::regconfig WHEN 'nn' THEN 'norwegian'::regconfig WHEN 'pt' THEN 'portuguese'::regconfig WHEN 'ro' THEN 'romanian'::regconfig WHEN 'ru' THEN 'russian'::regconfig WHEN 'sr' THEN 'serbian'::regconfig WHEN 'es' THEN 'spanish'::regconfig WHEN 'sv' THEN 'swedish'::regconfig WHEN 'ta' THEN 'tamil'::regconfig WHEN 'tr' THEN 'turkish'::regconfig WHEN 'yi' THEN 'yiddish'::regconfig ELSE 'simple'::regconfig END END), k."text")
  FROM "Document" d WHERE d."id" = k."documentId";
