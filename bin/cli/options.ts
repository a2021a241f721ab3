/** Parsers for command-line option values shared by several commands; errors name the flag. */
import { UserError } from './errors';

/** For repeatable options (`--set a=1 --set b=2`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function parseSeed(text: string, flag = '--seed'): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new UserError(`${flag} ${text}: expected an integer from 0 to 4294967295`);
  return n;
}

export function parsePort(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535)
    throw new UserError(`${flag} ${text}: expected a port from 0 to 65535 (0 picks a free one)`);
  return n;
}
