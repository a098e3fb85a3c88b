// One naming of REST endpoints shared by the connector's counters and the simulator's, so a test
// can compare the two: "POST wit/workitemsbatch", "GET wit/workitemtypes/{type}/states", "OPTIONS wit".
export function endpointLabel(method: string, rawPath: string): string {
  const path = rawPath.split('?')[0]!;
  const i = path.toLowerCase().indexOf('/_apis/');
  const tail = i < 0 ? path.replace(/^\/+/, '') : path.slice(i + '/_apis/'.length);
  const segs = tail.split('/').filter(Boolean);
  const out: string[] = [];
  for (let k = 0; k < segs.length; k++) {
    const s = decodeURIComponent(segs[k]!);
    const prev = out[out.length - 1]?.toLowerCase();
    if (/^\d+$/.test(s)) out.push('{id}');
    else if (prev === 'workitemtypes') out.push('{type}');
    else if (prev === 'subscriptions' || prev === 'resourceareas') out.push('{id}');
    else out.push(s.toLowerCase());
  }
  return `${method.toUpperCase()} ${out.join('/')}`;
}
