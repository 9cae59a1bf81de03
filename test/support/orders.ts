import { runTn, type OrderJson } from '../cli-helpers.js';

/** The id of the sandbox's one active order, once it exists. */
export async function activeOrderId(env: NodeJS.ProcessEnv): Promise<string> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const r = await runTn(['orders', '--status', 'active', '--json'], env);
    const page = r.code === 0 ? (JSON.parse(r.stdout) as { orders: OrderJson[] }) : { orders: [] };
    if (page.orders[0]) return page.orders[0].order_id;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no active order appeared');
}
