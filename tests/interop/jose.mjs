// Node's `jose` (panva/jose) on both sides of our tokens, a stack we did not write.
//   node jose.mjs verify <jwks_url> <token> <alg>   -> the verified payload as JSON, or exit 1
//   node jose.mjs sign <alg>                         -> {"token": ..., "jwk": <public JWK>}
//   node jose.mjs verify-batch < [{name, token, alg, secret | jwk}, ...]
//                                                    -> [{name, payload, header} | {name, error}, ...]
import * as jose from "jose";

async function verifyOne({ name, token, alg, secret, jwk }) {
  try {
    const key = jwk ? await jose.importJWK(jwk, alg) : new TextEncoder().encode(secret);
    const { payload, protectedHeader } = await jose.jwtVerify(token, key, { algorithms: [alg] });
    return { name, payload, header: protectedHeader };
  } catch (e) {
    return { name, error: e.code || String(e) };
  }
}

const [command, ...args] = process.argv.slice(2);
if (command === "verify") {
  const [url, token, alg] = args;
  const keys = jose.createRemoteJWKSet(new URL(url));
  try {
    const { payload, protectedHeader } = await jose.jwtVerify(token, keys, { algorithms: [alg] });
    console.log(JSON.stringify({ payload, header: protectedHeader }));
  } catch (e) {
    console.log(JSON.stringify({ error: e.code || String(e) }));
    process.exit(1);
  }
} else if (command === "sign") {
  const [alg] = args;
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  jwk.kid = await jose.calculateJwkThumbprint(jwk);
  const token = await new jose.SignJWT({ sub: "ada", email: "ada@example.com" })
    .setProtectedHeader({ alg, kid: jwk.kid, typ: "JWT" })
    .setIssuedAt().setExpirationTime("5m").setJti(crypto.randomUUID())
    .sign(privateKey);
  console.log(JSON.stringify({ token, jwk }));
} else if (command === "verify-batch") {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const cases = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  console.log(JSON.stringify(await Promise.all(cases.map(verifyOne))));
} else {
  console.error("usage: jose.mjs verify URL TOKEN ALG | sign ALG | verify-batch < CASES");
  process.exit(2);
}
