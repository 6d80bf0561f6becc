// LaTeX answer text → normalised source → tokens. No I/O; pure string work.

export type Token =
  | { t: "num"; v: number; raw: string }
  | { t: "id"; v: string } // one letter
  | { t: "word"; v: string } // multi-letter word from \text{...}
  | { t: "cmd"; v: string } // \name without the backslash
  | { t: "op"; v: string }; // punctuation / operator, incl. ≤ ≥ ≠ ≈ ∈ ∪ ∞ % \{ \} \\

const TEXT_CMDS = new Set([
  "text",
  "textbf",
  "textit",
  "textrm",
  "textnormal",
  "textsf",
  "texttt",
  "mbox",
  "mathrm",
  "mathbf",
  "mathit",
  "mathsf",
  "boldsymbol",
  "bm",
  "operatorname",
  "emph",
  "hbox",
]);

/** Rewrites spellings that mean the same thing into one form, before tokenising. */
export function normalizeLatex(input: string): string {
  let s = input;
  // Upstream data sometimes doubles the backslash before a command (`\\frac`); a real row break `\\` is followed by a non-letter.
  s = s.replace(/(?<!\\)\\\\(?=[a-zA-Z])/g, "\\");
  s = s.replace(/\\n(?![a-zA-Z])/g, " ");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stray control characters are what is removed
  s = s.replace(/[\u0000-\u0008\u000b-\u001f]/g, " ");
  s = s.replace(/\\(left|right)\s*\./g, "");
  s = s.replace(/\\(left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg|displaystyle|textstyle|limits)(?![a-zA-Z])/g, "");
  s = s.replace(/\\[dtc]frac(?![a-zA-Z])/g, "\\frac");
  s = s
    .replace(/,\\!\s*/g, ",")
    .replace(/\\!/g, "")
    .replace(/\{,\}/g, ",");
  s = s
    .replace(/\\(qquad|quad)/g, " ")
    .replace(/(?<!\\)\\[,;: ]/g, " ")
    .replace(/~/g, " ");
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree(?![a-zA-Z])/g, "");
  s = s.replace(/\\\$/g, "").replace(/\$/g, " ");
  s = s.replace(/\\%/g, "%").replace(/\s*\b(percentage|percent|pct)\b/gi, "%");
  s = s.replace(/\\(text|mbox|textrm|mathrm|textnormal)\s*\{\s*(and|or)\s*\}/g, ",");
  s = s.replace(/(?<![A-Za-z\\])(and|or)(?![a-z])/g, ",");
  s = s.replace(/\\(leqslant|leq|le)(?![a-zA-Z])|<=/g, "≤").replace(/\\(geqslant|geq|ge)(?![a-zA-Z])|>=/g, "≥");
  s = s
    .replace(/\\(neq|ne)(?![a-zA-Z])|!=/g, "≠")
    .replace(/\\lt(?![a-zA-Z])/g, "<")
    .replace(/\\gt(?![a-zA-Z])/g, ">");
  s = s.replace(/\\(approx|simeq|thickapprox)(?![a-zA-Z])/g, "≈");
  s = s
    .replace(/\\in(?![a-zA-Z])/g, "∈")
    .replace(/\\cup(?![a-zA-Z])/g, "∪")
    .replace(/\\infty(?![a-zA-Z])|∞/g, "∞");
  s = s.replace(/\\(cdot|times|ast)(?![a-zA-Z])|×|·/g, "*").replace(/\\div(?![a-zA-Z])|÷/g, "/");
  s = s
    .replace(/\\(lvert|rvert|vert|mid)(?![a-zA-Z])/g, "|")
    .replace(/\\(lbrace)(?![a-zA-Z])/g, "\\{")
    .replace(/\\(rbrace)(?![a-zA-Z])/g, "\\}");
  s = s
    .replace(/−/g, "-")
    .replace(/\\pm|±/g, "\\pm ")
    .replace(/\\mp|∓/g, "\\mp ");
  s = s
    .trim()
    .replace(/[.,;:\s]+$/g, "")
    .replace(/^[,;:\s]+/, "");
  return s;
}

/** Reads a balanced `{...}` group starting at `open` (the index of `{`); returns content and the index after `}`. */
export function readGroup(s: string, open: number): { content: string; end: number } | null {
  if (s[open] !== "{") return null;
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "{") depth++;
    else if (c === "}") {
      depth--;
      if (depth === 0) return { content: s.slice(open + 1, i), end: i + 1 };
    }
  }
  return null;
}

const THOUSANDS = /^[1-9]\d{0,2}(?:,\d{3})+(?![\d,])(?:\.\d+)?/;
const PLAIN_NUM = /^(?:\d+(?:\.\d*)?|\.\d+)/;

export function tokenize(src: string): Token[] | null {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = src.slice(i);
    if (/[\d.]/.test(c)) {
      const prev = src.slice(0, i).trimEnd().slice(-1);
      const th = prev === "(" || prev === "[" || prev === "{" ? null : THOUSANDS.exec(rest);
      const m = th ?? PLAIN_NUM.exec(rest);
      if (!m) {
        if (c === ".") {
          i++;
          continue;
        }
        return null;
      }
      const raw = m[0].replace(/,/g, "");
      out.push({ t: "num", v: Number(raw), raw });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      out.push({ t: "id", v: c });
      i++;
      continue;
    }
    if (c === "\\") {
      const m = /^\\([a-zA-Z]+)/.exec(rest);
      if (!m) {
        const two = rest.slice(0, 2);
        if (two === "\\{" || two === "\\}" || two === "\\\\" || two === "\\|") out.push({ t: "op", v: two === "\\|" ? "|" : two });
        i += 2;
        continue;
      }
      const name = m[1] as string;
      i += m[0].length;
      if (TEXT_CMDS.has(name)) {
        const j = skipSpaces(src, i);
        const g = readGroup(src, j);
        if (!g) continue;
        i = g.end;
        const body = g.content.trim();
        if (name === "operatorname") {
          out.push({ t: "cmd", v: body });
          continue;
        }
        if (body === "") continue;
        if (/^[A-Za-z]$/.test(body)) out.push({ t: "id", v: body });
        else if (/^[A-Za-z][A-Za-z ]*$/.test(body)) out.push({ t: "word", v: body.replace(/\s+/g, " ") });
        else {
          const inner = tokenize(body);
          if (!inner) return null;
          out.push(...inner);
        }
        continue;
      }
      if (name === "begin" || name === "end") {
        const g = readGroup(src, skipSpaces(src, i));
        if (!g) return null;
        i = g.end;
        // `\begin{array}{cc}` carries a column spec we do not need.
        if (name === "begin" && g.content === "array") {
          const spec = readGroup(src, skipSpaces(src, i));
          if (spec) i = spec.end;
        }
        out.push({ t: "op", v: name === "begin" ? "BEGIN" : "END" });
        continue;
      }
      out.push({ t: "cmd", v: name });
      continue;
    }
    if ("≤≥≠≈∈∪∞%+-*/^_()[]{},;=<>!|&:'".includes(c)) {
      out.push({ t: "op", v: c });
      i++;
      continue;
    }
    return null; // unknown character: not a maths answer we can read
  }
  return out;
}

function skipSpaces(s: string, i: number): number {
  while (i < s.length && /\s/.test(s[i] as string)) i++;
  return i;
}
