const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * The smallest fractional-index key after `last` with Gotify 2.9's scheme (rocicorp/fracdex,
 * which Gotify vendors): "a0", "a1", …, "az", "b00", …. Only appending is needed because
 * applications are always created at the end; clients reorder by sending their own sortKey.
 * A key not in that format (sent by a client) is followed by itself plus "0", which still sorts after it.
 */
export function keyAfter(last: string): string {
  if (last === '') return 'a0';
  const head = last[0]!;
  if (head < 'a' || head > 'z') return last + '0';
  const intLen = head.charCodeAt(0) - 'a'.charCodeAt(0) + 2;
  const intPart = last.slice(0, intLen);
  if (intPart.length !== intLen || [...intPart.slice(1)].some((c) => !DIGITS.includes(c))) return last + '0';
  const digs = [...intPart.slice(1)];
  let carry = true;
  for (let i = digs.length - 1; carry && i >= 0; i--) {
    const d = DIGITS.indexOf(digs[i]!) + 1;
    if (d === DIGITS.length) digs[i] = '0';
    else {
      digs[i] = DIGITS[d]!;
      carry = false;
    }
  }
  if (!carry) return head + digs.join('');
  if (head === 'z') return last + '0';
  return String.fromCharCode(head.charCodeAt(0) + 1) + digs.join('') + '0';
}
