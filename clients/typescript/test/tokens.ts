/** Test JWTs, signed with the key the stack's JWKS publishes. */

import { type JWK, SignJWT, importJWK } from "jose";

import { AUDIENCE, ISSUER } from "./constants.js";

export async function signToken(privateJwk: JWK, sub: string, lifetime = "10m"): Promise<string> {
  const key = await importJWK(privateJwk, "RS256");
  return new SignJWT({})
    .setProtectedHeader({ alg: "RS256", kid: privateJwk.kid ?? "test", typ: "JWT" })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(lifetime)
    .sign(key);
}
