-- CreateEnum
CREATE TYPE "IndexGenerationState" AS ENUM ('LIVE', 'BUILDING', 'RETIRING');

-- CreateTable
CREATE TABLE "IndexGeneration" (
    "id" SERIAL NOT NULL,
    "state" "IndexGenerationState" NOT NULL DEFAULT 'LIVE',
    "embedder" TEXT NOT NULL,
    "embedderConfig" JSONB,
    "dimension" INTEGER NOT NULL,
    "namespacing" TEXT NOT NULL,
    "chunker" TEXT NOT NULL,
    "chunkerConfig" JSONB,
    "store" TEXT NOT NULL,
    "storeConfig" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "IndexGeneration_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GenerationDocument" (
    "generationId" INTEGER NOT NULL,
    "documentId" TEXT NOT NULL,
    "sourceHash" TEXT NOT NULL,
    "indexedHash" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "liveIds" TEXT[],
    "vectorIds" TEXT[],
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "GenerationDocument_pkey" PRIMARY KEY ("generationId","documentId")
);

-- CreateTable
CREATE TABLE "EmbeddingCacheEntry" (
    "embedder" TEXT NOT NULL,
    "textHash" TEXT NOT NULL,
    "vector" BYTEA NOT NULL,
    "usedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EmbeddingCacheEntry_pkey" PRIMARY KEY ("embedder","textHash")
);

-- CreateIndex
CREATE INDEX "IndexGeneration_state_idx" ON "IndexGeneration"("state");

-- CreateIndex
CREATE INDEX "EmbeddingCacheEntry_usedAt_idx" ON "EmbeddingCacheEntry"("usedAt");
