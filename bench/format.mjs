// Medians and the number formats of the bench's tables.

export function median(xs) {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
export function fmtMs(ms) {
  if (ms === undefined || Number.isNaN(ms)) return "–";
  return ms >= 100 ? Math.round(ms).toLocaleString("en-US") : ms.toFixed(1);
}
export const fmtMB = (mb) => (mb === undefined ? "–" : mb.toFixed(0));
export const fmtX = (x) => (x === undefined || !Number.isFinite(x) ? "–" : `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×`);
export const fmtR = (x) => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(2));
export const fmtN = (n) => n.toLocaleString("en-US");
export const fmtPct = (x) => (x === undefined || !Number.isFinite(x) ? "–" : `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)} %`);
