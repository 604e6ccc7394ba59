// A strict OpenID Connect relying party we did not write (panva/oauth4webapi), against our provider.
//   node oidc_rp.mjs <issuer> <client_id> <secret|-> <redirect_uri> <browser headers as JSON> [max_age]
// Discovery (the issuer checked exactly), the authorization code flow with PKCE S256, the browser's
// leg by fetch (redirects not followed; the signed-in user's headers, e.g. a cookie), the callback
// (state, iss), the token request (client_secret_basic, or none for a public client), the ID token
// (iss, aud, exp, iat, nonce, and its signature against the JWKS; with max_age, auth_time within it),
// userinfo (its sub the ID token's).
// Prints {"claims": ..., "userinfo": ..., "alg": ...}, or {"error": ...} and exits 1.
import * as oauth from "oauth4webapi";

const [issuerUrl, clientId, secret, redirectUri, browserHeaders, maxAge] = process.argv.slice(2);
const issuer = new URL(issuerUrl);
const options = issuer.protocol === "http:" ? { [oauth.allowInsecureRequests]: true } : {};  // 127.0.0.1

try {
  const as = await oauth.processDiscoveryResponse(
    issuer, await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...options }));
  const client = { client_id: clientId };
  const auth = secret === "-" ? oauth.None() : oauth.ClientSecretBasic(secret);

  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const start = new URL(as.authorization_endpoint);
  for (const [name, value] of Object.entries({
    client_id: clientId, redirect_uri: redirectUri, response_type: "code", scope: "openid email profile groups",
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
    state, nonce,
  })) start.searchParams.set(name, value);
  if (maxAge) start.searchParams.set("max_age", maxAge);

  // the user's browser, signed in at the app: one hop, to the client's callback
  const hop = await fetch(start, { redirect: "manual", headers: JSON.parse(browserHeaders) });
  const location = hop.headers.get("location");
  if (hop.status !== 303 || !location || !location.startsWith(redirectUri + "?")) {
    throw new Error(`the authorization endpoint answered ${hop.status} ${location}`);
  }
  const params = oauth.validateAuthResponse(as, client, new URL(location), state);

  const response = await oauth.authorizationCodeGrantRequest(
    as, client, auth, params, redirectUri, verifier, options);
  const result = await oauth.processAuthorizationCodeResponse(
    as, client, response,
    { expectedNonce: nonce, requireIdToken: true, ...(maxAge ? { maxAge: Number(maxAge) } : {}) });
  await oauth.validateApplicationLevelSignature(as, response, options);  // the JWKS, by kid
  const claims = oauth.getValidatedIdTokenClaims(result);

  const info = await oauth.processUserInfoResponse(
    as, client, claims.sub, await oauth.userInfoRequest(as, client, result.access_token, options));
  const alg = JSON.parse(Buffer.from(result.id_token.split(".")[0], "base64url")).alg;
  console.log(JSON.stringify({ claims, userinfo: info, alg }));
} catch (e) {
  console.log(JSON.stringify({ error: `${e.name}: ${e.code || ""} ${e.message}` }));
  process.exit(1);
}
