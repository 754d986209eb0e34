// Composes izgraph's live SDL with a small "portal" subgraph that extends Person with
// preferredLanguage, serves the supergraph with @apollo/gateway, and checks that izgraph's
// refusals (RECORD_LOCKED, NOT_FOUND, FORBIDDEN) survive the hop for tokens of several roles,
// and that nothing izgraph refuses reaches the client through the other subgraph.
//
//   node federation.mjs fixture.json
//
// fixture.json: { url, tokens: { admin, providerA, providerB, school, auditor },
//                 persons: { normal, locked }, names: { normal, locked } }
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import gql from 'graphql-tag';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';

const fx = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const loopback = { listen: { port: 0, host: '127.0.0.1' } };
let passed = 0;
let failed = 0;

function check(name, condition, detail) {
  if (condition) {
    passed += 1;
    console.log(`ok - ${name}`);
  } else {
    failed += 1;
    console.log(`not ok - ${name}\n  ${JSON.stringify(detail, null, 1)}`);
  }
}

async function post(url, token, query, variables = {}) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return res.json();
}

const codes = (body) => (body.errors ?? []).map((e) => e.extensions?.code);

// izgraph's SDL, as served.
const izgraphUrl = `${fx.url}/graphql`;
const service = await post(izgraphUrl, fx.tokens.admin, '{ _service { sdl } }');
const izgraphSdl = service.data?._service?.sdl;
check('izgraph serves its SDL', typeof izgraphSdl === 'string', service);

// The portal subgraph: its users, and a preferred language for any person.
const portalTypeDefs = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
  type Query {
    portalUsers: [PortalUser!]!
  }
  type PortalUser {
    login: String!
    person: Person
  }
  type Person @key(fields: "id") {
    id: ID!
    preferredLanguage: String
  }
`;
const language = (id) => (id === fx.persons.locked ? 'es' : 'en');
const portal = new ApolloServer({
  schema: buildSubgraphSchema({
    typeDefs: portalTypeDefs,
    resolvers: {
      Query: {
        portalUsers: () => [
          { login: 'normal', person: { id: fx.persons.normal } },
          { login: 'locked', person: { id: fx.persons.locked } },
        ],
      },
      Person: {
        __resolveReference: (ref) => ({ id: ref.id }),
        preferredLanguage: (person) => language(person.id),
      },
    },
  }),
});
const { url: portalUrl } = await startStandaloneServer(portal, loopback);

// Composition of the live SDL, @requiresScopes included, as a router that enforces scopes
// would compose it.
const subgraphs = (sdl) => [
  { name: 'izgraph', typeDefs: parse(sdl), url: izgraphUrl },
  { name: 'portal', typeDefs: portalTypeDefs, url: portalUrl },
];
const full = composeServices(subgraphs(izgraphSdl));
check('the live SDL composes with the portal subgraph', !full.errors, full.errors?.map((e) => e.message));
check(
  'the supergraph carries izgraph\'s @requiresScopes for routers that enforce them',
  full.supergraphSdl?.includes('requiresScopes/v0.1') &&
    /accessLog\([^)]*\)[^\n]*@requiresScopes\(scopes: \[\["audit:read"\]\]\)/.test(full.supergraphSdl),
  full.supergraphSdl?.split('\n').filter((l) => l.includes('accessLog')),
);

// @apollo/gateway does not enforce @requiresScopes and therefore refuses a supergraph that
// declares it (a SECURITY feature it cannot honour). It gets the SDL without the directive:
// izgraph enforces every scope itself, which is what the queries below show.
let supergraphSdl = full.supergraphSdl;
const probe = new ApolloGateway({ supergraphSdl });
let refusedSecurity = null;
try {
  await probe.load();
  await probe.stop();
} catch (e) {
  refusedSecurity = String(e.message ?? e);
}
if (refusedSecurity) {
  check('the gateway refuses only the SECURITY feature it cannot enforce', /requiresScopes|SECURITY/i.test(refusedSecurity), refusedSecurity);
  const stripped = izgraphSdl
    .replace(/\s*@requiresScopes\(scopes: \[[^\n]*?\]\]\)/g, '')
    .replace(/,\s*"@requiresScopes"/, '');
  const composed = composeServices(subgraphs(stripped));
  check('without @requiresScopes the SDL composes too', !composed.errors, composed.errors?.map((e) => e.message));
  supergraphSdl = composed.supergraphSdl;
}

const gateway = new ApolloGateway({
  supergraphSdl,
  buildService: ({ url }) =>
    new RemoteGraphQLDataSource({
      url,
      willSendRequest({ request, context }) {
        if (context.authorization) request.http.headers.set('authorization', context.authorization);
      },
    }),
});
const server = new ApolloServer({ gateway });
const { url: gatewayUrl } = await startStandaloneServer(server, {
  ...loopback,
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});

const USERS = '{ portalUsers { login person { id firstName preferredLanguage contact { city } } } }';
const user = (body, login) => body.data?.portalUsers?.find((u) => u.login === login)?.person;

// registry_admin: everything, from both subgraphs.
let body = await post(gatewayUrl, fx.tokens.admin, USERS);
check(
  'admin: both persons, with izgraph and portal fields',
  user(body, 'normal')?.firstName === fx.names.normal &&
    user(body, 'locked')?.firstName === fx.names.locked &&
    user(body, 'locked')?.preferredLanguage === 'es' &&
    !body.errors,
  body,
);

// Provider of the clinic the record is locked to: sees it.
body = await post(gatewayUrl, fx.tokens.providerA, USERS);
check('provider of the locking clinic: sees the locked record', user(body, 'locked')?.firstName === fx.names.locked && !body.errors, body);

// Another provider: RECORD_LOCKED survives the hop; no field of the locked record arrives.
body = await post(gatewayUrl, fx.tokens.providerB, USERS);
check(
  'other provider: RECORD_LOCKED reaches the client, the locked record stays empty',
  codes(body).includes('RECORD_LOCKED') &&
    user(body, 'normal')?.firstName === fx.names.normal &&
    (user(body, 'locked')?.firstName ?? null) === null &&
    (user(body, 'locked')?.contact ?? null) === null &&
    !JSON.stringify(body.data).includes(fx.names.locked),
  body,
);

// School: identity yes, contact FORBIDDEN at its field.
body = await post(gatewayUrl, fx.tokens.school, USERS);
check(
  'school: FORBIDDEN on contact reaches the client, identity and portal fields still served',
  codes(body).includes('FORBIDDEN') &&
    user(body, 'normal')?.firstName === fx.names.normal &&
    (user(body, 'normal')?.contact ?? null) === null &&
    user(body, 'normal')?.preferredLanguage === 'en',
  body,
);

// Auditor: no person data at all.
body = await post(gatewayUrl, fx.tokens.auditor, USERS);
check(
  'auditor: NOT_FOUND reaches the client and no name does',
  codes(body).includes('NOT_FOUND') &&
    !JSON.stringify(body.data ?? {}).includes(fx.names.normal) &&
    !JSON.stringify(body.data ?? {}).includes(fx.names.locked),
  body,
);

// Rooted in izgraph: a refused root field is not completed from the other subgraph.
const PERSON = 'query($id: ID!) { person(id: $id) { firstName preferredLanguage } }';
body = await post(gatewayUrl, fx.tokens.providerB, PERSON, { id: fx.persons.locked });
check(
  'other provider, person(id:) on the locked record: RECORD_LOCKED and null',
  codes(body).includes('RECORD_LOCKED') && (body.data?.person ?? null) === null,
  body,
);
body = await post(gatewayUrl, fx.tokens.providerA, PERSON, { id: fx.persons.locked });
check(
  'provider of the locking clinic, person(id:): both subgraphs answer',
  body.data?.person?.firstName === fx.names.locked && body.data?.person?.preferredLanguage === 'es',
  body,
);

// No token: izgraph answers 401 and the gateway passes on nothing of izgraph's.
body = await post(gatewayUrl, null, USERS);
check(
  'no token: no izgraph data through the gateway',
  !JSON.stringify(body.data ?? {}).includes(fx.names.normal) && (body.errors ?? []).length > 0,
  body,
);

await server.stop();
await portal.stop();
console.log(`federation: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
