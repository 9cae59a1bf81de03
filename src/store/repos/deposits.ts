import type { Coin, DepositAddress, DepositRecord, DepositsRepo, DepositStatus, DueAddress } from '../../core/deposits/port.js';
import type { Sql } from '../sql.js';

interface AddressRow {
  account_id: string;
  coin: string;
  idx: number;
  address: string;
  created_at: number;
  lease_until: number | null;
  watch_until: number;
  active_until: number;
}

interface DepositRow {
  id: number;
  account_id: string;
  coin: string;
  address: string;
  txid: string;
  vout: number;
  sats: number;
  confirmations: number;
  status: string;
  usd: number | null;
  rate: number | null;
  seen_at: number;
  settled_at: number | null;
  dropped_at: number | null;
}

const ADDRESS_COLUMNS = 'account_id, coin, idx, address, created_at, lease_until, watch_until, active_until';
const DEPOSIT_COLUMNS = 'id, account_id, coin, address, txid, vout, sats, confirmations, status, usd, rate, seen_at, settled_at, dropped_at';

const toAddress = (r: AddressRow): DepositAddress => ({ accountId: r.account_id, coin: r.coin as Coin, index: r.idx, address: r.address, createdAt: r.created_at });
const toDue = (r: AddressRow): DueAddress => ({ ...toAddress(r), leaseUntil: r.lease_until ?? 0, watchUntil: r.watch_until, activeUntil: r.active_until });
const toDeposit = (r: DepositRow): DepositRecord => ({
  id: r.id,
  accountId: r.account_id,
  coin: r.coin as Coin,
  address: r.address,
  txid: r.txid,
  vout: r.vout,
  sats: r.sats,
  confirmations: r.confirmations,
  status: r.status as DepositStatus,
  usd: r.usd,
  rate: r.rate,
  seenAt: r.seen_at,
  settledAt: r.settled_at,
  droppedAt: r.dropped_at,
});

export function depositsRepo(sql: Sql): DepositsRepo {
  return {
    async address(accountId, coin) {
      const row = await sql.get<AddressRow>(`SELECT ${ADDRESS_COLUMNS} FROM deposit_addresses WHERE account_id = ? AND coin = ?`, accountId, coin);
      return row ? toAddress(row) : null;
    },
    async addresses(accountId) {
      return (await sql.all<AddressRow>(`SELECT ${ADDRESS_COLUMNS} FROM deposit_addresses WHERE account_id = ? ORDER BY coin`, accountId)).map(toAddress);
    },
    async takeIndex(coin) {
      await sql.run('INSERT INTO deposit_counters (coin, next_index) VALUES (?, 0) ON CONFLICT (coin) DO NOTHING', coin);
      return (await sql.get<{ idx: number }>('UPDATE deposit_counters SET next_index = next_index + 1 WHERE coin = ? RETURNING next_index - 1 AS idx', coin))!.idx;
    },
    async insertAddress(a, dueAt, watchUntil, activeUntil) {
      return (
        (await sql.run(
          `INSERT INTO deposit_addresses (coin, idx, account_id, address, created_at, next_check_at, watch_until, active_until)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          a.coin, a.index, a.accountId, a.address, a.createdAt, dueAt, watchUntil, activeUntil,
        )) === 1
      );
    },
    async watch(accountId, coin, dueAt, watchUntil, activeUntil) {
      // An address being checked keeps its lease (its next check is the lease's end until the check records the real one).
      await sql.run(
        `UPDATE deposit_addresses SET
           next_check_at = CASE WHEN (lease_until IS NULL OR lease_until < ?) AND (next_check_at IS NULL OR next_check_at > ?) THEN CAST(? AS BIGINT) ELSE next_check_at END,
           watch_until = CASE WHEN watch_until < ? THEN CAST(? AS BIGINT) ELSE watch_until END,
           active_until = CASE WHEN active_until < ? THEN CAST(? AS BIGINT) ELSE active_until END
         WHERE account_id = ? AND coin = ?`,
        dueAt, dueAt, dueAt, watchUntil, watchUntil, activeUntil, activeUntil, accountId, coin,
      );
    },
    async claimDue(coin, now, limit, leaseUntil) {
      const rows = await sql.all<AddressRow>(
        `SELECT ${ADDRESS_COLUMNS} FROM deposit_addresses a WHERE coin = ? AND next_check_at <= ? ORDER BY next_check_at LIMIT ? ${sql.skipLocked('a')}`,
        coin, now, limit,
      );
      const claimed: DueAddress[] = [];
      for (const r of rows) {
        const n = await sql.run(
          'UPDATE deposit_addresses SET next_check_at = ?, lease_until = ? WHERE coin = ? AND idx = ? AND next_check_at <= ?',
          leaseUntil, leaseUntil, coin, r.idx, now,
        );
        if (n === 1) claimed.push(toDue({ ...r, lease_until: leaseUntil }));
      }
      return claimed;
    },
    async claimOne(accountId, coin, now, notCheckedSince, leaseUntil) {
      const row = await sql.get<AddressRow>(
        `UPDATE deposit_addresses SET next_check_at = ?, lease_until = ?
         WHERE account_id = ? AND coin = ? AND (lease_until IS NULL OR lease_until <= ?) AND (checked_at IS NULL OR checked_at <= ?)
         RETURNING ${ADDRESS_COLUMNS}`,
        leaseUntil, leaseUntil, accountId, coin, now, notCheckedSince,
      );
      return row ? toDue(row) : null;
    },
    async finishCheck(coin, index, leaseUntil, checkedAt, nextAt, fastAt, activeUntil) {
      await sql.run(
        // Typed parameters: PostgreSQL cannot tell a CASE of two placeholders apart from text.
        `UPDATE deposit_addresses SET next_check_at = CASE WHEN watch_until > ? THEN CAST(? AS BIGINT) ELSE CAST(? AS BIGINT) END, lease_until = NULL, checked_at = ?,
           active_until = CASE WHEN active_until < ? THEN CAST(? AS BIGINT) ELSE active_until END
         WHERE coin = ? AND idx = ? AND lease_until = ?`,
        checkedAt, fastAt, nextAt, checkedAt, activeUntil, activeUntil, coin, index, leaseUntil,
      );
    },
    async release(coin, index, leaseUntil, dueAt) {
      await sql.run('UPDATE deposit_addresses SET next_check_at = ?, lease_until = NULL WHERE coin = ? AND idx = ? AND lease_until = ?', dueAt, coin, index, leaseUntil);
    },
    async nextDueAt(coin) {
      return (await sql.get<{ at: number | null }>('SELECT min(next_check_at) AS at FROM deposit_addresses WHERE coin = ?', coin))?.at ?? null;
    },
    async pause(coin) {
      const row = await sql.get<{ paused_until: number; failures: number }>('SELECT paused_until, failures FROM deposit_watchers WHERE coin = ?', coin);
      return { pausedUntil: row?.paused_until ?? 0, failures: row?.failures ?? 0 };
    },
    async setPause(coin, pausedUntil, failures) {
      await sql.run(
        `INSERT INTO deposit_watchers (coin, paused_until, failures) VALUES (?, ?, ?)
         ON CONFLICT (coin) DO UPDATE SET paused_until = excluded.paused_until, failures = excluded.failures`,
        coin, pausedUntil, failures,
      );
    },
    async insertDeposit(d) {
      return (
        (await sql.run(
          `INSERT INTO deposits (account_id, coin, address, txid, vout, sats, confirmations, status, usd, rate, seen_at, settled_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (coin, txid, vout) DO NOTHING`,
          d.accountId, d.coin, d.address, d.txid, d.vout, d.sats, d.confirmations, d.status, d.usd, d.rate, d.seenAt, d.settledAt,
        )) === 1
      );
    },
    async deposit(coin, txid, vout) {
      const row = await sql.get<DepositRow>(`SELECT ${DEPOSIT_COLUMNS} FROM deposits WHERE coin = ? AND txid = ? AND vout = ?`, coin, txid, vout);
      return row ? toDeposit(row) : null;
    },
    async setConfirmations(id, confirmations) {
      await sql.run("UPDATE deposits SET confirmations = ? WHERE id = ? AND status = 'pending'", confirmations, id);
    },
    async settle(id, status, usd, rate, at, confirmations) {
      return (
        (await sql.run("UPDATE deposits SET status = ?, usd = ?, rate = ?, settled_at = ?, confirmations = ? WHERE id = ? AND status = 'pending'", status, usd, rate, at, confirmations, id)) === 1
      );
    },
    async credited(coin, address) {
      return (await sql.all<DepositRow>(`SELECT ${DEPOSIT_COLUMNS} FROM deposits WHERE coin = ? AND address = ? AND status = 'credited'`, coin, address)).map(toDeposit);
    },
    async setDropped(id, at) {
      await sql.run('UPDATE deposits SET dropped_at = ? WHERE id = ?', at, id);
    },
    async dropped() {
      return (await sql.all<DepositRow>(`SELECT ${DEPOSIT_COLUMNS} FROM deposits WHERE dropped_at IS NOT NULL ORDER BY id`)).map(toDeposit);
    },
    async list(accountId, limit) {
      return (await sql.all<DepositRow>(`SELECT ${DEPOSIT_COLUMNS} FROM deposits WHERE account_id = ? ORDER BY id DESC LIMIT ?`, accountId, limit)).map(toDeposit);
    },
  };
}
