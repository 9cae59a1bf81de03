/** Phone numbers as the broker keeps them: E.164 with `+`. */

/** A phone number in E.164 with `+`: digits only (spaces, dots, dashes, brackets dropped), 1 to 15 of them. */
export function normalisePhone(raw: string): string | null {
  const trimmed = raw.trim();
  if (!/^\+?[\d\s().-]+$/.test(trimmed)) return null;
  const digits = trimmed.replace(/\D/g, '');
  return digits.length >= 1 && digits.length <= 15 ? `+${digits}` : null;
}
