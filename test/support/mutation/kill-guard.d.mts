/** See kill-guard.mjs: wraps process.kill() so that, under mutation testing, it only signals processes of this run. */
export function installKillGuard(): void;
