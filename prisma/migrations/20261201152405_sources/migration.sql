-- DropForeignKey
ALTER TABLE "Document" DROP CONSTRAINT "Document_userId_fkey";

-- AlterTable
ALTER TABLE "Document" ADD COLUMN     "sourceKey" TEXT,
ADD COLUMN     "sourceName" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Document_sourceName_sourceKey_key" ON "Document"("sourceName", "sourceKey");
