/**
 * A small XML reader for report formats (DMARC aggregate reports): elements,
 * text, CDATA, comments and processing instructions, the five predefined
 * entities and character references. Nothing else: a document type
 * declaration (the only place entities can be defined, so the only door to
 * entity expansion and external entities) is refused, as are documents
 * deeper or larger than the limits. Reports never carry one. Namespace
 * prefixes are kept apart from local names; attributes are kept as text.
 * Pure.
 */

/** One element: its local name, namespace prefix, attributes, children and direct text. */
export interface XmlElement {
  name: string;
  prefix?: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** Why a document was refused, with where. */
export class XmlRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XmlRefused";
  }
}

/** The bounds the XML reader enforces: a document past any of them is refused, not read. */
export interface XmlLimits {
  /** Deepest nesting accepted. */
  maxDepth: number;
  /** Most elements accepted. */
  maxElements: number;
}

/** Limits far above any real report (an aggregate report is 6 levels deep), far below what would hurt. */
export const DEFAULT_XML_LIMITS: XmlLimits = { maxDepth: 32, maxElements: 500_000 };

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decode(text: string, at: number): string {
  // Most text is indentation or plain: no reference to read.
  if (!text.includes("&")) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z][\w.-]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(";")) throw new XmlRefused(`a bare "&" near offset ${at}: not well-formed XML`);
    if (ref.startsWith("#")) {
      const code = ref.startsWith("#x") ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code > 0x10ffff || code === 0) throw new XmlRefused(`character reference &${ref}; near offset ${at} is no character`);
      return String.fromCodePoint(code);
    }
    const value = ENTITIES[ref];
    if (value === undefined) throw new XmlRefused(`entity &${ref}; near offset ${at} is not one of XML's five predefined entities (reports define none)`);
    return value;
  });
}

const NAME = /^([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)/;
const WHITESPACE = /^\s*$/;

/**
 * A start tag's attributes, read in one pass from `from` (name, "=", a quoted value): no pattern that can
 * backtrack, so a hostile tag costs its length, not its square.
 */
function readAttributes(body: string, from: number, at: number): Record<string, string> {
  const attributes: Record<string, string> = {};
  let i = from;
  const space = () => {
    while (i < body.length && /\s/.test(body[i])) i++;
  };
  for (;;) {
    space();
    if (i >= body.length) return attributes;
    const start = i;
    while (i < body.length && /[\w.:-]/.test(body[i])) i++;
    if (i === start) throw new XmlRefused(`a malformed attribute in the tag at offset ${at}`);
    const name = body.slice(start, i);
    space();
    if (body[i] !== "=") throw new XmlRefused(`attribute ${name} without a value in the tag at offset ${at}`);
    i++;
    space();
    const quote = body[i];
    if (quote !== '"' && quote !== "'") throw new XmlRefused(`attribute ${name}'s value is not quoted in the tag at offset ${at}`);
    const close = body.indexOf(quote, i + 1);
    if (close < 0) throw new XmlRefused(`attribute ${name}'s value is not closed in the tag at offset ${at}`);
    attributes[name] = decode(body.slice(i + 1, close), at);
    i = close + 1;
  }
}

/** The document's root element. Throws XmlRefused with the reason for anything it will not read. */
export function parseXml(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let elements = 0;
  const appendText = (t: string) => {
    if (stack.length > 0) stack[stack.length - 1].text += t;
    else if (t.trim() !== "") throw new XmlRefused(`text outside the root element near offset ${i}`);
  };
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    if (lt < 0) {
      appendText(decode(text.slice(i), i));
      break;
    }
    if (lt > i) {
      const between = text.slice(i, lt);
      // Indentation between elements is no element's text: not kept, not decoded.
      if (!WHITESPACE.test(between)) appendText(decode(between, i));
    }
    i = lt;
    const next = text.charCodeAt(i + 1);
    if (next === 0x2f /* "/" */) {
      const end = text.indexOf(">", i);
      if (end < 0) throw new XmlRefused(`an unterminated end tag at offset ${i}`);
      const open = stack.pop();
      const expected = open ? (open.prefix ? `${open.prefix}:${open.name}` : open.name) : "";
      if (!open || !text.startsWith(expected, i + 2) || text.slice(i + 2 + expected.length, end).trim() !== "") {
        throw new XmlRefused(`end tag </${text.slice(i + 2, end).trim()}> at offset ${i} does not close ${open ? `<${expected}>` : "any element"}`);
      }
      i = end + 1;
    } else if (next === 0x21 /* "!" */) {
      if (text.startsWith("<!--", i)) {
        const end = text.indexOf("-->", i + 4);
        if (end < 0) throw new XmlRefused(`an unterminated comment at offset ${i}`);
        i = end + 3;
      } else if (text.startsWith("<![CDATA[", i)) {
        const end = text.indexOf("]]>", i + 9);
        if (end < 0) throw new XmlRefused(`an unterminated CDATA section at offset ${i}`);
        appendText(text.slice(i + 9, end));
        i = end + 3;
      } else {
        // <!DOCTYPE ...> (with any ENTITY in it) and anything else of the kind.
        throw new XmlRefused(`a document type declaration at offset ${i} (${JSON.stringify(text.slice(i, i + 20))}...): refused, as it is the only way to define entities (entity expansion, external entities); reports carry none`);
      }
    } else if (next === 0x3f /* "?" */) {
      const end = text.indexOf("?>", i + 2);
      if (end < 0) throw new XmlRefused(`an unterminated processing instruction at offset ${i}`);
      i = end + 2;
    } else {
      // The tag ends at the first ">" outside a quoted attribute value (one linear scan).
      let end = i + 1;
      for (let quote = 0; end < text.length; end++) {
        const c = text.charCodeAt(end);
        if (quote !== 0) {
          if (c === quote) quote = 0;
        } else if (c === 0x22 || c === 0x27) quote = c;
        else if (c === 0x3e) break;
      }
      if (end >= text.length) throw new XmlRefused(`an unterminated start tag at offset ${i}`);
      const selfClosing = text.charCodeAt(end - 1) === 0x2f;
      const body = text.slice(i + 1, selfClosing ? end - 1 : end);
      const m = NAME.exec(body);
      if (!m) throw new XmlRefused(`a tag with no name at offset ${i}`);
      const attributes = body.length > m[0].length ? readAttributes(body, m[0].length, i) : {};
      const element: XmlElement = { name: m[2], ...(m[1] ? { prefix: m[1].slice(0, -1) } : {}), attributes, children: [], text: "" };
      if (++elements > limits.maxElements) throw new XmlRefused(`more than ${limits.maxElements.toLocaleString("en-US")} elements`);
      if (stack.length > 0) stack[stack.length - 1].children.push(element);
      else if (root) throw new XmlRefused(`a second root element <${m[0]}> at offset ${i}`);
      else root = element;
      if (!selfClosing) {
        stack.push(element);
        if (stack.length > limits.maxDepth) throw new XmlRefused(`nested deeper than ${limits.maxDepth} elements at offset ${i}`);
      }
      i = end + 1;
    }
  }
  if (stack.length > 0) throw new XmlRefused(`the document ends inside <${stack[stack.length - 1].name}>`);
  if (!root) throw new XmlRefused("no root element: not an XML document");
  return root;
}

/** The first child of that local name, or undefined. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

/** Every child of that local name. */
export function childrenNamed(element: XmlElement | undefined, name: string): XmlElement[] {
  return element?.children.filter((c) => c.name === name) ?? [];
}

/** A child's text, trimmed, or undefined when the child is absent or empty. */
export function childText(element: XmlElement | undefined, name: string): string | undefined {
  const t = child(element, name)?.text.trim();
  return t === undefined || t === "" ? undefined : t;
}
