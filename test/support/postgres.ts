/**
 * A fresh PostgreSQL database per test, on the server the machine runs (127.0.0.1:5432, trust
 * auth; TN_TEST_PG_URL names another). Dropped when the test finishes.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL = process.env.TN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A new database, and the way to drop it. */
export async function createPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `tn_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const drop = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: ADMIN_URL });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  };
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop };
}

/** `createPostgres`, dropped when the test finishes. */
export async function freshPostgres(onFinished: (fn: () => Promise<void>) => void): Promise<string> {
  const { url, drop } = await createPostgres();
  onFinished(drop);
  return url;
}
