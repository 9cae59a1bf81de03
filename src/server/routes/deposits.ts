import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AUTH } from '../schemas.js';

const Iso = Type.String({ format: 'date-time' });

const Deposit = Type.Object({
  coin: Type.Union([Type.Literal('btc'), Type.Literal('ltc')]),
  address: Type.String(),
  txid: Type.String(),
  vout: Type.Integer({ minimum: 0 }),
  amount: Type.String({ description: 'in whole coins, exact (8 decimals)' }),
  amount_sats: Type.Integer({ minimum: 0, description: "in the coin's smallest unit" }),
  confirmations: Type.Integer({ minimum: 0 }),
  confirmations_required: Type.Integer({ minimum: 0 }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('credited'), Type.Literal('below_minimum')]),
  usd: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: 'USD credited (or found below the minimum) at the rate of the time; null while pending' }),
  seen_at: Iso,
  credited_at: Type.Union([Iso, Type.Null()]),
});

const DepositList = Type.Object({
  addresses: Type.Record(Type.String(), Type.String(), { description: 'the account’s address per coin' }),
  minimum_usd: Type.Number({ minimum: 0 }),
  confirmations: Type.Record(Type.String(), Type.Integer()),
  deposits: Type.Array(Deposit),
});

/** Issue 16: the account's crypto deposits. A broker without deposits answers 400 with a message saying so. */
export const depositRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/deposits',
    {
      config: AUTH,
      schema: {
        summary: "The account's deposit addresses and deposits: pending with confirmations so far, credited, below the minimum",
        response: { 200: DepositList },
      },
    },
    async (request) => app.core.listDeposits(request.accountId),
  );

  app.post(
    '/deposits/check',
    {
      config: AUTH,
      schema: {
        summary: "Look at the account's addresses on the chain now, then answer as GET /deposits",
        response: { 200: DepositList },
      },
    },
    async (request) => app.core.checkDeposits(request.accountId),
  );
};
