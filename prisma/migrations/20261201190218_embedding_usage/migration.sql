-- CreateTable
CREATE TABLE "EmbeddingUsage" (
    "day" DATE NOT NULL,
    "userId" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "tokens" BIGINT NOT NULL DEFAULT 0,
    "texts" INTEGER NOT NULL DEFAULT 0,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EmbeddingUsage_pkey" PRIMARY KEY ("day","userId","model")
);

-- CreateIndex
CREATE INDEX "EmbeddingUsage_userId_day_idx" ON "EmbeddingUsage"("userId", "day");
