import { LocalEmbedder } from "../../src/index.js";
import { embedderContract } from "./embedder-contract.js";

embedderContract("local", async () => ({ embedder: new LocalEmbedder(), cleanup: async () => {} }));
