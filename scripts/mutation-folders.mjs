// The folders under mutation testing (stryker.config.mjs, scripts/mutation.mjs): the runtime's
// core, from the Runtime API to the CGI answer.
export const MUTATED_FOLDERS = ['cgi', 'router', 'http', 'events', 'runtime-api', 'runtime'];
