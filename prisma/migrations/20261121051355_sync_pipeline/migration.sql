-- AlterTable
ALTER TABLE "Document" ADD COLUMN     "syncLeaseUntil" TIMESTAMP(3),
ADD COLUMN     "syncToken" TEXT,
ADD COLUMN     "vectorNamespace" TEXT;

-- AlterTable
ALTER TABLE "DocumentChunk" DROP CONSTRAINT "DocumentChunk_pkey",
ADD COLUMN     "metadataHash" TEXT NOT NULL DEFAULT '',
ADD CONSTRAINT "DocumentChunk_pkey" PRIMARY KEY ("vectorId");

-- Chunks indexed before this migration get an empty metadata hash: their metadata is rewritten
-- on the next sync. New rows always carry a real one.
ALTER TABLE "DocumentChunk" ALTER COLUMN "metadataHash" DROP DEFAULT;

-- CreateIndex
CREATE INDEX "DocumentChunk_documentId_index_idx" ON "DocumentChunk"("documentId", "index");
