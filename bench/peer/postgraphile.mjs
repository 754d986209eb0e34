// PostGraphile v4 for the peer benchmark: the izgraph database's `persons` and `doses` under
// row-level security (setup.sql), the same bearer token as izgraph (ES256, verified with the
// dev issuer's public key from izgraph's JWKS), and with PEER_AUDIT=1 a hash-chained audit
// row appended before each request is served.
//   node postgraphile.mjs DATABASE_URL PORT JWKS_URL AUDIENCE
import http from "node:http";
import crypto from "node:crypto";
import pg from "pg";
import { postgraphile } from "postgraphile";

const [databaseUrl, port, jwksUrl, audience] = process.argv.slice(2);
const jwks = await (await fetch(jwksUrl)).json();
const publicKey = crypto
  .createPublicKey({ key: jwks.keys[0], format: "jwk" })
  .export({ type: "spki", format: "pem" });

const pool = new pg.Pool({ connectionString: databaseUrl, max: 16 });
const handler = postgraphile(pool, "public", {
  jwtSecret: publicKey,
  jwtVerifyOptions: { algorithms: ["ES256"], audience },
  ignoreRBAC: false,
  disableQueryLog: true,
  retryOnInitFail: false,
  graphiql: false,
  enableQueryBatching: false,
  // Only what the benchmark reads: persons and their doses.
  simpleCollections: "omit",
});

const audit = process.env.PEER_AUDIT === "1";
const APPEND = `WITH h AS (
  UPDATE peer_audit_head SET seq = seq + 1, hash = sha256(hash || convert_to($1, 'UTF8'))
  RETURNING seq, hash)
INSERT INTO peer_audit (seq, hash, entry) SELECT seq, hash, $1 FROM h`;

http
  .createServer(async (req, res) => {
    if (audit && req.url === "/graphql" && req.method === "POST") {
      try {
        const sub = (req.headers.authorization || "").slice(-16);
        await pool.query(APPEND, [`${new Date().toISOString()} ${sub}`]);
      } catch (e) {
        res.statusCode = 500;
        res.end(String(e));
        return;
      }
    }
    handler(req, res);
  })
  .listen(Number(port), "127.0.0.1", () => console.log(`postgraphile listening on ${port}`));
