-- CreateIndex
CREATE INDEX "Document_userId_sourceUrl_idx" ON "Document"("userId", "sourceUrl");
