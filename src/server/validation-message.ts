import type { FastifySchemaValidationError } from 'fastify';

type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The sentence the broker core gives for the same mistake ("Parameter "status" must be one of
 * active, …"), written from the route's own schema, instead of Ajv's ("must be equal to
 * constant"): a bad value reads the same whether the local or a remote broker refused it.
 */
export function validationMessage(errors: readonly FastifySchemaValidationError[], schema: unknown): string {
  const first = errors[0]!;
  const params = first.params as Record<string, unknown>;
  if (first.keyword === 'required') return `Parameter "${joinPath(first.instancePath, String(params.missingProperty))}" is required.`;
  if (first.keyword === 'additionalProperties') return `Unknown parameter "${joinPath(first.instancePath, String(params.additionalProperty))}".`;
  const name = joinPath(first.instancePath);
  if (!name) return `The request ${first.message ?? 'is invalid'}.`;
  const phrase = describe(nodeAt(schema, first.instancePath));
  return phrase ? `Parameter "${name}" must be ${phrase}.` : `Parameter "${name}" ${first.message ?? 'is invalid'}.`;
}

/** `/orders/0/platform` + `country` → `orders.0.platform.country`. */
function joinPath(instancePath: string, last?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (last !== undefined) parts.push(last);
  return parts.join('.');
}

function nodeAt(schema: unknown, instancePath: string): Schema | undefined {
  let node: unknown = schema;
  for (const part of instancePath.split('/').filter(Boolean)) {
    if (!isSchema(node)) return undefined;
    if (isSchema(node.properties) && part in node.properties) node = node.properties[part];
    else if (isSchema(node.items)) node = node.items;
    else return undefined;
  }
  return isSchema(node) ? node : undefined;
}

/** What a value of this schema is, as the core's messages put it; undefined where there is no plain phrase. */
function describe(node: Schema | undefined): string | undefined {
  if (!node) return undefined;
  const choices = Array.isArray(node.enum)
    ? node.enum
    : Array.isArray(node.anyOf) && node.anyOf.every((n) => isSchema(n) && 'const' in n)
      ? node.anyOf.map((n) => (n as Schema).const)
      : undefined;
  if (choices) return `one of ${choices.map(String).join(', ')}`;
  const min = typeof node.minimum === 'number' ? node.minimum : undefined;
  const max = typeof node.maximum === 'number' ? node.maximum : undefined;
  const bounds = (what: string): string =>
    min !== undefined && max !== undefined ? `${what} from ${min} to ${max}` : min !== undefined ? `${what} of at least ${min}` : max !== undefined ? `${what} of at most ${max}` : what;
  switch (node.type) {
    case 'integer':
      return bounds('a whole number');
    case 'number':
      return bounds('a number');
    case 'boolean':
      return 'true or false';
    case 'string': {
      const lo = typeof node.minLength === 'number' ? node.minLength : undefined;
      const hi = typeof node.maxLength === 'number' ? node.maxLength : undefined;
      if (lo !== undefined && hi !== undefined) return `a string of ${lo} to ${hi} characters`;
      if (hi !== undefined) return `a string of at most ${hi} characters`;
      return undefined;
    }
    default:
      return undefined;
  }
}
