-- AlterEnum
ALTER TYPE "SyncJobKind" ADD VALUE 'SWEEP';

-- AlterTable
ALTER TABLE "Document" ADD COLUMN     "syncEpoch" INTEGER NOT NULL DEFAULT 0;
