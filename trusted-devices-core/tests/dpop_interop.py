"""DPoP proofs made and checked by another JOSE library (jwcrypto, on OpenSSL), for the
core's interop test. Usage:
  dpop_interop.py make <EC|OKP> <method> <uri> <iat> <access token or ->
      prints {"proof": ..., "jkt": ...}
  dpop_interop.py check <proof> <expected jkt>
      exits 0 if jwcrypto verifies the proof with its own jwk and agrees on the thumbprint
"""
import base64
import hashlib
import json
import sys
import uuid

from jwcrypto import jwk, jws


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make(kty, method, uri, iat, token):
    key = jwk.JWK.generate(kty="EC", crv="P-256") if kty == "EC" else jwk.JWK.generate(kty="OKP", crv="Ed25519")
    alg = "ES256" if kty == "EC" else "EdDSA"
    claims = {"jti": str(uuid.uuid4()), "htm": method, "htu": uri, "iat": int(iat)}
    if token != "-":
        claims["ath"] = b64(hashlib.sha256(token.encode()).digest())
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": key.export_public(as_dict=True)}
    token_jws = jws.JWS(json.dumps(claims).encode())
    token_jws.add_signature(key, alg=None, protected=json.dumps(header))
    print(json.dumps({"proof": token_jws.serialize(compact=True), "jkt": key.thumbprint()}))


def check(proof, expected_jkt):
    header_b64 = proof.split(".")[0]
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
    key = jwk.JWK(**header["jwk"])
    verifier = jws.JWS()
    verifier.deserialize(proof)
    verifier.verify(key, alg=header["alg"])
    assert key.thumbprint() == expected_jkt, (key.thumbprint(), expected_jkt)


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(*sys.argv[2:7])
    else:
        check(sys.argv[2], sys.argv[3])
