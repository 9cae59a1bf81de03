import type BetterSqlite3 from 'better-sqlite3';

type Param = string | number | bigint | null | Buffer | Record<string, unknown>;

/** Statements prepared once per connection: compiling SQL costs more than running these small queries. */
export class Sql {
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

  get<R>(text: string, ...params: Param[]): R | undefined {
    return this.statement(text).get(...params) as R | undefined;
  }

  all<R>(text: string, ...params: Param[]): R[] {
    return this.statement(text).all(...params) as R[];
  }

  /** Runs a statement; the number of rows it changed. */
  run(text: string, ...params: Param[]): number {
    return this.statement(text).run(...params).changes;
  }
}
