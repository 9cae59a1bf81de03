import { createHmac } from 'node:crypto';

// Standard Webhooks signatures: the same code signs deliveries (tn serve) and forwards (tn listen).

/** `v1,<base64 HMAC-SHA256>` of `id.timestamp.body`, keyed with the secret's bytes (the part after `whsec_`). */
export function sign(secret: string, msgId: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${msgId}.${timestamp}.${body}`).digest('base64')}`;
}

/** The three headers of a delivery; one signature per active secret, so rotation breaks no receiver. */
export function webhookHeaders(secrets: readonly string[], msgId: string, timestamp: number, body: string): Record<string, string> {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => sign(s, msgId, timestamp, body)).join(' '),
  };
}
