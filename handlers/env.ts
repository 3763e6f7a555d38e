/**
 * Reads a required environment variable. Handlers call it at module scope, so a function deployed
 * without its configuration fails at cold start with a message that names the variable, instead
 * of failing later on the first request with an SDK validation error.
 */
export function requireEnv(name: string): string {
    const value = process.env[name];
    if (value === undefined || value.trim() === "") {
        throw new Error(`Environment variable ${name} is required but not set; the deployment must provide it.`);
    }
    return value;
}
