/**
 * A fresh PostgreSQL database per test, on the server the machine runs (127.0.0.1:5432, trust
 * auth; TN_TEST_PG_URL names another). Dropped when the test finishes.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL = process.env.TN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function freshPostgres(onFinished: (fn: () => Promise<void>) => void): Promise<string> {
  const name = `tn_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  onFinished(async () => {
    const drop = new pg.Client({ connectionString: ADMIN_URL });
    await drop.connect();
    try {
      await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await drop.end();
    }
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
