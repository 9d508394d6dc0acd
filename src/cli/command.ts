import type { Config } from '../config/config.ts';

/** One `mupza-comms` sub-command: its arguments and the configuration, loaded only when needed. */
export type CliCommand = (args: string[], config: () => Config) => Promise<number>;

/** `--name value` or `--name=value`. */
export function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}
