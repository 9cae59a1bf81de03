import { InvalidArgumentError, type Command } from 'commander';
import type { Factory } from './factory.js';
import { ORDER_ID_PATTERN } from '../core/limits.js';

const ORDER_ID = new RegExp(ORDER_ID_PATTERN);

/** What a command's action needs: its dependencies, and a way to report an exit code without throwing. */
export interface CommandContext {
  factory(): Factory;
  exit(code: number): void;
}

/** Each command file exports one of these: it declares the command on the program and wires its `run`. */
export type DefineCommand = (program: Command, ctx: CommandContext) => void;

/** Adds the usual examples block to a command's help. */
export function examples(command: Command, lines: readonly string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

export function integerIn(min: number, max: number, what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${what} must be a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

export const orderIdArgument = (value: string): string => {
  if (!ORDER_ID.test(value)) throw new InvalidArgumentError('an order id looks like ord_01J…');
  return value;
};

/** `--public-url`: the origin gateways call, an absolute http(s) URL without query or fragment. */
export function publicUrlArgument(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('an absolute http(s) URL, e.g. https://tn.example.com');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw new InvalidArgumentError('an http(s) URL without query or fragment, e.g. https://tn.example.com');
  }
  return url.toString().replace(/\/+$/, '');
}

/** `--db` of `tn admin` and its subcommands: which database they act on. */
export const DB_OPTION = ['--db <file|url>', "database file or postgres:// URL (env TN_DB_URL; default: the embedded broker's file)"] as const;
