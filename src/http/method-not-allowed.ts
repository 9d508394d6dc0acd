import type { CollectedRoute } from './openapi.ts';

/**
 * The methods a path takes, for a 405 with an Allow header when it was asked with another one.
 * Matched against the registered route patterns (":param" is one segment); catch-all routes
 * ("*", the owner panel's static files) are left out, so an unknown path stays a 404.
 */
export function methodsForPath(routes: readonly CollectedRoute[]): (path: string) => string[] {
  let table: { re: RegExp; method: string }[] | null = null;
  return (path) => {
    // Built on first use: by then every route is registered.
    table ??= routes
      .filter((r) => !r.url.includes('*'))
      .map((r) => ({ re: patternToRegExp(r.url), method: r.method }));
    const methods = new Set(table.filter((t) => t.re.test(path)).map((t) => t.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}

function patternToRegExp(url: string): RegExp {
  const source = url
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}
