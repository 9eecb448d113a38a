/** Training settings from config live beside the config schema; re-exported for the CLI's callers. */
export { trainingSettings } from '../config';
