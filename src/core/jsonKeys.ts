/**
 * What `JSON.parse` hides about objects, pure: it keeps the last of two equal keys without a word, and
 * it lists integer-like keys ("0", "10", "2") before the others in numeric order. Reading a file whose
 * keys are ids needs both the duplicates and the order the file wrote them in.
 */
export type KeyScan = {
  /** Keys of the top-level object in the order written (empty when the top level is not an object). */
  topKeys: string[];
  /** The first key written twice in one object, anywhere in the document, and where its second copy starts. */
  duplicate: { key: string; at: number } | null;
};

type Frame = { kind: "object"; keys: Set<string>; expectKey: boolean } | { kind: "array" };

/** Scans text that `JSON.parse` already accepted (on other text the answer is unspecified but it never throws). */
export function scanKeys(text: string): KeyScan {
  const stack: Frame[] = [];
  const topKeys: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.kind === "object" && top.expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          key = text.slice(i + 1, j);
        }
        if (top.keys.has(key)) return { topKeys, duplicate: { key, at: i } };
        top.keys.add(key);
        if (stack.length === 1) topKeys.push(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === "{") stack.push({ kind: "object", keys: new Set(), expectKey: true });
    else if (c === "[") stack.push({ kind: "array" });
    else if (c === "}" || c === "]") stack.pop();
    else if (c === ",") {
      const top = stack[stack.length - 1];
      if (top?.kind === "object") top.expectKey = true;
    }
  }
  return { topKeys, duplicate: null };
}
