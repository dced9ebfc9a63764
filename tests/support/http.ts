/** A JSON request to a test server, with the answer's status, headers and parsed body. */
/** Any answer may be a problem instead of the happy shape. */
type ProblemFields = { code?: string; detail?: string; errors?: { path: string; message: string }[] };

export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T & ProblemFields;
}

export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T & ProblemFields };
}
