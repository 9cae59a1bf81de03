import { createHmac } from 'node:crypto';

// How the operator's gateways sign what they post, computed from their documented algorithms
// (../shared/reference/peers.md, "Inbound SMS gateways"), independently of src/providers/inbound.ts.

/** Twilio's X-Twilio-Signature: base64 HMAC-SHA1 over the full URL, then each POST parameter sorted by name, name then value. */
export function twilioSignature(url: string, params: Record<string, string>, authToken: string): string {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** SMS Gateway for Android's X-Signature: hex HMAC-SHA256 over the raw body followed by the X-Timestamp value. */
export function androidSignature(rawBody: string, timestamp: string, signingKey: string): string {
  return createHmac('sha256', signingKey).update(rawBody + timestamp, 'utf8').digest('hex');
}

/** An HS256 JWT, as httpSMS puts in its Authorization header: base64url(header).base64url(claims).base64url(HMAC-SHA256). */
export function jwtHs256(claims: Record<string, unknown>, signingKey: string): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', signingKey).update(unsigned, 'utf8').digest('base64url')}`;
}

/** Unix time in whole seconds. */
export const unixSeconds = (ms: number = Date.now()): number => Math.floor(ms / 1000);
