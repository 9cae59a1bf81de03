/**
 * What the repositories need of an engine: three ways to run one statement, written with `?`
 * placeholders in SQL that SQLite and PostgreSQL both read. An engine adapts the placeholders
 * and its driver's results; the repositories (`store/repos/`) are written once for both.
 */
export type Param = string | number | null;

export interface Sql {
  get<R>(text: string, ...params: Param[]): Promise<R | undefined>;
  all<R>(text: string, ...params: Param[]): Promise<R[]>;
  /** Runs a statement; the number of rows it changed. */
  run(text: string, ...params: Param[]): Promise<number>;
  /** The clause that claims the rows of `alias` no other transaction holds: `FOR UPDATE OF … SKIP LOCKED` where rows lock, nothing where one writer at a time is the rule. */
  skipLocked(alias: string): string;
  /** The SQL expression that gives a new order its numeric alias (the sms-activate activation id), unique under concurrent inserts. */
  readonly nextOrderNumber: string;
}
