import { ConfigurationError } from "../errors.js";

/**
 * Loads a provider SDK that is an optional peer dependency, turning "not installed" into a
 * ConfigurationError that says what to install.
 */
export async function importOptional<T>(name: string, load: () => Promise<T>, forOption: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new ConfigurationError(`${forOption}: needs the package "${name}"; install it with: npm install ${name}`);
    }
    throw error;
  }
}
