export { freePort, SERVER_MAIN, ServerProcess } from './server-process.js';
