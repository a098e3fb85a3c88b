// Counts in English for people: "1 rule", "2 rules", "1 retry", "3 retries".

/** `n` and the noun, singular for exactly one (-y after a consonant becomes -ies, else -s is added). */
export function count(n: number, singular: string, plural = pluralOf(singular)): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? singular : plural}`;
}

function pluralOf(noun: string): string {
  if (/[^aeiou]y$/.test(noun)) return `${noun.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(noun)) return `${noun}es`;
  return `${noun}s`;
}
