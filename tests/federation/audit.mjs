// graphql-http's server audits against a live izgraph. Every request carries a bearer token
// (izgraph refuses anonymous requests with 401, which is authentication, not the transport
// under audit). Prints each audit that did not pass, the tally, and exits 1 on any MUST
// failure.
//
//   node audit.mjs fixture.json
import { readFileSync } from 'node:fs';
import { serverAudits } from 'graphql-http';

const fixture = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const url = `${fixture.url}/graphql`;

function withToken(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${fixture.tokens.admin}`);
  return fetch(input, { ...init, headers });
}

const tally = {
  MUST: { ok: 0, failed: 0 },
  SHOULD: { ok: 0, failed: 0 },
  MAY: { ok: 0, failed: 0 },
};
for (const audit of serverAudits({ url, fetchFn: withToken })) {
  const level = audit.name.split(' ')[0];
  const result = await audit.fn();
  const bucket = tally[level] ?? (tally[level] = { ok: 0, failed: 0 });
  if (result.status === 'ok') {
    bucket.ok += 1;
  } else {
    bucket.failed += 1;
    console.log(`${result.status}: ${audit.name}: ${result.reason}`);
  }
}
for (const [level, { ok, failed }] of Object.entries(tally)) {
  console.log(`graphql-http audits ${level}: ${ok} passed, ${failed} failed`);
}
const passed = Object.values(tally).reduce((n, b) => n + b.ok, 0);
const failed = Object.values(tally).reduce((n, b) => n + b.failed, 0);
console.log(`graphql-http: ${passed} passed, ${failed} failed`);
process.exit(tally.MUST.failed === 0 ? 0 : 1);
