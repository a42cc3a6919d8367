-- CreateIndex
CREATE INDEX "Document_language_idx" ON "Document"("language");
