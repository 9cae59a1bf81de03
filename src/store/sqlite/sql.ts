import type BetterSqlite3 from 'better-sqlite3';
import type { Param, Sql } from '../sql.js';

/** SQLite's side of `Sql`: statements prepared once per connection (compiling costs more than running these small queries). */
export class SqliteSql implements Sql {
  /** One writer at a time: the next after the largest is free. */
  readonly nextOrderNumber = '(SELECT coalesce(max(num), 0) + 1 FROM orders)';

  skipLocked(): string {
    return '';
  }
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(readonly db: BetterSqlite3.Database) {}

  statement(text: string): BetterSqlite3.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  async get<R>(text: string, ...params: Param[]): Promise<R | undefined> {
    return this.statement(text).get(...params) as R | undefined;
  }

  async all<R>(text: string, ...params: Param[]): Promise<R[]> {
    return this.statement(text).all(...params) as R[];
  }

  async run(text: string, ...params: Param[]): Promise<number> {
    return this.statement(text).run(...params).changes;
  }

  /** For the engine's own statements (BEGIN, SAVEPOINT): synchronous, no promise. */
  exec(text: string): void {
    this.statement(text).run();
  }
}
