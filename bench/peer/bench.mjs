// izgraph against PostGraphile v4, side by side on one seeded PostgreSQL database.
//
// Starts four servers on the database run.sh prepared: izgraph with Redis and its near cache,
// izgraph with IZGRAPH_CACHE=none, PostGraphile, and PostGraphile appending a hash-chained
// audit row per request. Each gets the same provider token, the same 1,000 person ids and 28
// last names, and the same autocannon client; runs alternate between the servers, round after
// round, and the table gives each server's best round and izgraph's ratio to PostGraphile.
//
//   node bench.mjs --database URL --redis URL --izgraph PATH [--duration S] [--rounds N]
//                  [--connections C] [--only by_id|search]
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import pg from "pg";

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const DATABASE_URL = args.database;
const REDIS_URL = args.redis || "redis://127.0.0.1:6379";
const IZGRAPH = path.resolve(args.izgraph || "target/release/izgraph");
const DURATION = Number(args.duration || 15);
const ROUNDS = Number(args.rounds || 2);
const CONNECTIONS = Number(args.connections || 32);
const ONLY = args.only;
const HERE = path.dirname(new URL(import.meta.url).pathname);

const children = [];
process.on("exit", () => children.forEach((c) => c.kill("SIGTERM")));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));

function start(name, cmd, argv, env, ready) {
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const look = (d) => {
      out += d;
      const m = out.match(ready);
      if (m) resolve(m);
    };
    child.stdout.on("data", look);
    child.stderr.on("data", (d) => {
      look(d);
      if (process.env.PEER_VERBOSE) process.stderr.write(`[${name}] ${d}`);
    });
    child.on("exit", (code) => reject(new Error(`${name} exited ${code}: ${out.slice(-2000)}`)));
  });
}

const db = new pg.Client({ connectionString: DATABASE_URL });
await db.connect();
const clinic = (
  await db.query("SELECT id FROM organizations WHERE kind = 'CLINIC' ORDER BY id LIMIT 1")
).rows[0].id;
// 1,000 persons a provider of that clinic may read (participating, not locked elsewhere),
// chosen by a fixed hash so every run and both servers use the same ones.
const ids = (
  await db.query(
    `SELECT id FROM persons WHERE participation = 'PARTICIPATING'
       AND (locked_to_org_id IS NULL OR locked_to_org_id = $1)
     ORDER BY md5(id::text) LIMIT 1000`,
    [clinic],
  )
).rows.map((r) => r.id);
const names = (
  await db.query(
    `SELECT last_name, last_name_key FROM persons GROUP BY last_name, last_name_key
     ORDER BY count(*) DESC, last_name LIMIT 28`,
  )
).rows;
await db.end();

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "izgraph-peer-"));
const base = {
  DATABASE_URL,
  IZGRAPH_DATA_DIR: dataDir,
  IZGRAPH_SEED_DEMO: "false",
  IZGRAPH_LOG: process.env.IZGRAPH_LOG || "warn",
  IZGRAPH_LISTEN: "127.0.0.1:0",
};
const namespace = `peer-${process.pid}`;
const listening = /listening on (http:\/\/[0-9.:]+)/;
const [, cached] = await start("izgraph-cached", IZGRAPH, ["serve"], {
  ...base,
  REDIS_URL,
  IZGRAPH_CACHE: "redis",
  IZGRAPH_CACHE_NAMESPACE: namespace,
}, listening);
const [, uncached] = await start("izgraph-none", IZGRAPH, ["serve"], { ...base, IZGRAPH_CACHE: "none" }, listening);
const token = execFileSync(IZGRAPH, ["token", "--role", "provider", "--org", clinic, "--ttl", "7200"], {
  env: { ...process.env, ...base },
})
  .toString()
  .trim();
const audience = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).aud;
const jwks = `${cached}/.well-known/jwks.json`;
const pgPort = 18000 + (process.pid % 1000);
await start("postgraphile", "node", [path.join(HERE, "postgraphile.mjs"), DATABASE_URL, String(pgPort), jwks, audience], {}, /listening/);
await start("postgraphile-audit", "node", [path.join(HERE, "postgraphile.mjs"), DATABASE_URL, String(pgPort + 1), jwks, audience], { PEER_AUDIT: "1" }, /listening/);

const IZ_BY_ID = `query($id: ID!) { person(id: $id) { id firstName lastName dateOfBirth doses { dateGiven vaccine { cvx } } } }`;
const PG_BY_ID = `query($id: UUID!) { personById(id: $id) { id firstName lastName dateOfBirth dosesByPersonId(orderBy: [DATE_GIVEN_ASC, RECORDED_AT_ASC]) { nodes { dateGiven cvx } } } }`;
const IZ_SEARCH = `query($n: String!) { persons(filter: { lastName: $n }, first: 20) { edges { node { id firstName lastName doses { dateGiven vaccine { cvx } } } } } }`;
const PG_SEARCH = `query($k: String!) { allPeople(condition: { lastNameKey: $k }, first: 20, orderBy: [LAST_NAME_KEY_ASC, FIRST_NAME_KEY_ASC, ID_ASC]) { nodes { id firstName lastName dosesByPersonId(orderBy: [DATE_GIVEN_ASC, RECORDED_AT_ASC]) { nodes { dateGiven cvx } } } } }`;

const servers = [
  { name: "izgraph (Redis + near cache)", url: `${cached}/graphql`, kind: "iz" },
  { name: "izgraph IZGRAPH_CACHE=none", url: `${uncached}/graphql`, kind: "iz" },
  { name: "PostGraphile", url: `http://127.0.0.1:${pgPort}/graphql`, kind: "pg" },
  { name: "PostGraphile + audit row", url: `http://127.0.0.1:${pgPort + 1}/graphql`, kind: "pg" },
];
const workloads = {
  by_id: {
    title: "person by id with doses",
    body: (kind, i) =>
      kind === "iz"
        ? { query: IZ_BY_ID, variables: { id: ids[i % ids.length] } }
        : { query: PG_BY_ID, variables: { id: ids[i % ids.length] } },
  },
  search: {
    title: "search by last name, 20 persons with doses",
    body: (kind, i) =>
      kind === "iz"
        ? { query: IZ_SEARCH, variables: { n: names[i % names.length].last_name } }
        : { query: PG_SEARCH, variables: { k: names[i % names.length].last_name_key } },
  },
};

async function post(url, body) {
  const r = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
  return r.json();
}

// The servers must give the same answers: same persons, same doses.
function shape(kind, w, data) {
  if (w === "by_id") {
    const p = kind === "iz" ? data.person : data.personById;
    const doses = kind === "iz" ? p.doses.map((d) => `${d.dateGiven}/${d.vaccine.cvx}`) : p.dosesByPersonId.nodes.map((d) => `${d.dateGiven}/${d.cvx}`);
    return JSON.stringify([p.id, doses]);
  }
  const nodes = kind === "iz" ? data.persons.edges.map((e) => e.node) : data.allPeople.nodes;
  return JSON.stringify(
    nodes.map((p) => [p.id, (kind === "iz" ? p.doses.map((d) => d.vaccine.cvx) : p.dosesByPersonId.nodes.map((d) => d.cvx))]),
  );
}
for (const w of Object.keys(workloads)) {
  for (const i of [0, 1, 2, 7]) {
    const answers = [];
    for (const s of servers) {
      const r = await post(s.url, workloads[w].body(s.kind, i));
      if (r.errors || !r.data) throw new Error(`${s.name} ${w}: ${JSON.stringify(r).slice(0, 500)}`);
      answers.push(shape(s.kind, w, r.data));
    }
    if (new Set(answers).size !== 1) throw new Error(`${w} #${i}: the servers disagree:\n${answers.join("\n")}`);
  }
}

function run(server, w, seconds) {
  let i = 0;
  let errors = 0;
  const body = () => JSON.stringify(workloads[w].body(server.kind, i++));
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: server.url,
        method: "POST",
        connections: CONNECTIONS,
        duration: seconds,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" },
        requests: [
          {
            setupRequest: (req) => ({ ...req, body: body() }),
            onResponse: (status, resBody) => {
              if (status !== 200 || resBody.includes('"errors"')) errors++;
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve({ ...result, gqlErrors: errors })),
    );
  });
}

const load = () => os.loadavg()[0].toFixed(1);
const results = {};
for (const w of ONLY ? [ONLY] : Object.keys(workloads)) {
  // Warm-up: every id / name once through each server (fills izgraph's cache, PostgreSQL's
  // buffers and plans, V8's JIT).
  for (const s of servers) await run(s, w, 3);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const s of order) {
      const r = await run(s, w, DURATION);
      const row = {
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        errors: r.errors + r.non2xx + r.gqlErrors,
        total: r.requests.total,
        load: load(),
      };
      console.error(`${workloads[w].title} | ${s.name} | round ${round + 1}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ${row.errors} errors, load ${row.load}`);
      const key = `${w}|${s.name}`;
      (results[key] ||= []).push(row);
    }
  }
}

const best = (key) => (results[key] || []).reduce((a, b) => (!a || b.rps > a.rps ? b : a), null);
const fmt = (r) => (r ? `${Math.round(r.rps).toLocaleString("en-US")} req/s, p50 ${r.p50} / p99 ${r.p99} ms${r.errors ? `, ${r.errors} errors` : ""}` : "-");
console.log(`\n${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} rounds (best round shown), load average now ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);
console.log(`| query | ${servers.map((s) => s.name).join(" | ")} | izgraph cached / PostGraphile | izgraph none / PostGraphile |`);
console.log(`| --- | ${servers.map(() => "---").join(" | ")} | --- | --- |`);
for (const w of ONLY ? [ONLY] : Object.keys(workloads)) {
  const rows = servers.map((s) => best(`${w}|${s.name}`));
  const ratio = (a, b) => (a && b ? `${(a.rps / b.rps).toFixed(2)}×` : "-");
  console.log(`| ${workloads[w].title} | ${rows.map(fmt).join(" | ")} | ${ratio(rows[0], rows[2])} | ${ratio(rows[1], rows[2])} |`);
}
fs.rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
