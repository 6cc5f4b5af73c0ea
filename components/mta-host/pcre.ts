/** Text quoted for a Postfix pcre table's pattern (between the slashes): every regex metacharacter and "/" escaped. */
export function regexQuote(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
