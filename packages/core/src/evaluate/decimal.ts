/**
 * Decimal numerals read from UTF-8 bytes, to the same double `Number(text)` gives, bit for
 * bit, without making the string: the columnar CSV reader's number path.
 */

/** Powers of ten that doubles hold exactly (10^22 is the last). */
export const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
];

const ZERO = 0x30;
const DOT = 0x2e;
const PLUS = 0x2b;
const MINUS = 0x2d;

/**
 * The value of `bytes[start..end)` when it is a plain decimal numeral (`parseCsv`'s
 * `/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/`), else `undefined`. The value may be infinite
 * (`1e999`); the caller decides what that means.
 *
 * Up to 15 significant digits and a decimal exponent within ±22 take Clinger's fast path: the
 * digits as an integer and the power of ten are both exact doubles, so one multiplication or
 * division rounds once, correctly, which is what `Number` does. Anything longer is rebuilt as
 * text and given to `Number` (ASCII only here, so the text is the bytes).
 */
export function decimalAt(bytes: Uint8Array, start: number, end: number): number | undefined {
  let i = start;
  let negative = false;
  const s = bytes[i];
  if (s === PLUS || s === MINUS) {
    negative = s === MINUS;
    i++;
  }
  let mantissa = 0;
  let significant = 0;
  let exponent = 0;
  let digits = 0;
  for (; i < end; i++) {
    const d = bytes[i]! - ZERO;
    if (d < 0 || d > 9) break;
    digits++;
    if (significant > 0 || d !== 0) {
      significant++;
      mantissa = mantissa * 10 + d;
    }
  }
  if (i < end && bytes[i] === DOT) {
    i++;
    for (; i < end; i++) {
      const d = bytes[i]! - ZERO;
      if (d < 0 || d > 9) break;
      digits++;
      exponent--;
      if (significant > 0 || d !== 0) {
        significant++;
        mantissa = mantissa * 10 + d;
      }
    }
  }
  if (digits === 0) return undefined;
  if (i < end && (bytes[i]! | 0x20) === 0x65) {
    i++;
    let sign = 1;
    if (i < end && (bytes[i] === PLUS || bytes[i] === MINUS)) {
      sign = bytes[i] === MINUS ? -1 : 1;
      i++;
    }
    const first = i;
    let e = 0;
    for (; i < end; i++) {
      const d = bytes[i]! - ZERO;
      if (d < 0 || d > 9) break;
      if (e < 1e6) e = e * 10 + d;
    }
    if (i === first) return undefined;
    exponent += sign * e;
  }
  if (i !== end) return undefined;
  if (mantissa === 0) return negative ? -0 : 0;
  let value: number;
  if (significant <= 15 && exponent >= -22 && exponent <= 22)
    value = exponent < 0 ? mantissa / POW10[-exponent]! : mantissa * POW10[exponent]!;
  else value = Number(latin1(bytes, start, end));
  return negative && value > 0 ? -value : value;
}

/** ASCII bytes as a string (numerals are ASCII, so no decoding is needed). */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!);
  return text;
}
