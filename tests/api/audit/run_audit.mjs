// Runs every GraphQL-over-HTTP server audit of `graphql-http` against a live endpoint and prints
// one JSON object per audit on stdout: {"id", "name", "status", "reason"?, "httpStatus"?}.
//
// The endpoint needs an API key, so each request the audits make goes through `fetchFn`, which
// adds the `Authorization` header. Configuration comes from the environment, never argv, so the
// key does not show in process listings:
//   GRAPHQL_URL            e.g. http://127.0.0.1:8123/graphql
//   GRAPHQL_AUTHORIZATION  e.g. "Bearer oj_..."
// Exit status: 0 when every audit answered `ok`, 1 otherwise, 2 on a fatal error.
import { serverAudits } from 'graphql-http';

const url = process.env.GRAPHQL_URL;
const authorization = process.env.GRAPHQL_AUTHORIZATION;
if (!url || !authorization) {
  console.error('set GRAPHQL_URL and GRAPHQL_AUTHORIZATION');
  process.exit(2);
}

function fetchWithKey(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', authorization);
  return fetch(input, { ...init, headers });
}

let failed = false;
try {
  for (const audit of serverAudits({ url, fetchFn: fetchWithKey })) {
    const result = await audit.fn();
    const line = { id: result.id, name: result.name, status: result.status };
    if (result.status !== 'ok') {
      failed = true;
      line.reason = result.reason;
      line.httpStatus = result.response ? result.response.status : null;
    }
    console.log(JSON.stringify(line));
  }
} catch (error) {
  console.error(error);
  process.exit(2);
}
process.exit(failed ? 1 : 0);
