// A small validator for the OpenAPI 3.0 schema subset Atlassian's spec uses ($ref, type,
// properties, required, additionalProperties, items, allOf/oneOf/anyOf, enum, nullable), so the
// simulator's answers can be checked against the copied spec without another dependency.
export interface OpenApiSubset {
  operations: Record<string, { status: number; schema: unknown }>;
  components: { schemas: Record<string, unknown> };
}

type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  enum?: unknown[];
  nullable?: boolean;
};

export function checkAgainst(spec: OpenApiSubset, schema: unknown, value: unknown, path = '$'): string[] {
  const s = schema as Schema;
  if (!s || typeof s !== 'object') return [];
  if (s.$ref) {
    const name = s.$ref.split('/').pop()!;
    return checkAgainst(spec, spec.components.schemas[name], value, path);
  }
  if (value === null) return s.nullable || !s.type ? [] : [`${path}: null where ${s.type} is expected`];
  const errors: string[] = [];
  for (const sub of s.allOf ?? []) errors.push(...checkAgainst(spec, sub, value, path));
  for (const alts of [s.oneOf, s.anyOf]) {
    if (alts && !alts.some((sub) => checkAgainst(spec, sub, value, path).length === 0))
      errors.push(`${path}: matches none of the alternatives`);
  }
  if (s.enum && !s.enum.includes(value))
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`);
  const actual = Array.isArray(value) ? 'array' : typeof value;
  switch (s.type) {
    case 'object':
      if (actual !== 'object') return [...errors, `${path}: ${actual} where object is expected`];
      break;
    case 'array':
      if (actual !== 'array') return [...errors, `${path}: ${actual} where array is expected`];
      for (const [i, v] of (value as unknown[]).entries())
        errors.push(...checkAgainst(spec, s.items, v, `${path}[${i}]`));
      return errors;
    case 'integer':
      if (!Number.isInteger(value)) errors.push(`${path}: ${JSON.stringify(value)} is not an integer`);
      return errors;
    case 'number':
    case 'string':
    case 'boolean':
      if (actual !== s.type) errors.push(`${path}: ${actual} where ${s.type} is expected`);
      return errors;
  }
  if (actual === 'object' && (s.properties || s.additionalProperties !== undefined || s.required)) {
    const o = value as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in o)) errors.push(`${path}.${r}: required but missing`);
    for (const [k, v] of Object.entries(o)) {
      const p = s.properties?.[k];
      if (p) errors.push(...checkAgainst(spec, p, v, `${path}.${k}`));
      else if (s.additionalProperties === false)
        errors.push(`${path}.${k}: not in the schema (additionalProperties: false)`);
      else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        errors.push(...checkAgainst(spec, s.additionalProperties, v, `${path}.${k}`));
      }
    }
  }
  return errors;
}
