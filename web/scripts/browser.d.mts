// Types for scripts/browser.mjs, which the tests import.

export declare const ENV_VAR: string;
export declare const NAMES: readonly string[];
/** Flags that work for headless Chromium in a container (with a fresh user-data dir). */
export declare const LAUNCH_ARGS: readonly string[];
/** Why no Chromium was found, as one line that names the command to run. */
export declare class NoChromium extends Error {}
/** The Chromium to drive: `$BOUNDARY_CHROMIUM`, else the first of NAMES on the PATH; throws NoChromium. */
export declare function findChromium(env?: NodeJS.ProcessEnv): string;
