"""The sandbox with ordinary clients only: requests-oauthlib for the OAuth 2
client credentials grant, PyJWT for verifying a checkout token against the
published JWKS. Nothing here knows it is talking to a sandbox.

    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
    cargo run -p sandbox &            # or the app's embedded one
    .venv/bin/python standard_clients.py [http://127.0.0.1:3030]
"""

import os
import sys
import uuid

import jwt
import requests
from oauthlib.oauth2 import BackendApplicationClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3030"
if BASE.startswith("http://"):
    # oauthlib's own switch for local development over plain HTTP.
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

# 1. OAuth 2 client credentials (RFC 6749 §4.4), client authenticated with HTTP Basic.
oauth = OAuth2Session(client=BackendApplicationClient(client_id="demo_client_id"))
token = oauth.fetch_token(
    token_url=f"{BASE}/oauth/token",
    auth=HTTPBasicAuth("demo_client_id", "demo_client_secret"),
    include_client_id=False,
)
assert token["token_type"] == "Bearer", token
print(f"OAuth token: expires_in={token['expires_in']}")

# 2. A checkout token, minted with the OAuth token (the session adds the Bearer header).
init = oauth.post(
    f"{BASE}/v1/checkout-auth/init",
    json={"customer_id": "cus_acme", "invoice_id": "inv_1002"},
)
init.raise_for_status()
checkout_token = init.json()["token"]

# 3. Verified against the JWKS by kid, with the algorithm pinned.
signing_key = jwt.PyJWKClient(f"{BASE}/.well-known/jwks.json").get_signing_key_from_jwt(checkout_token)
claims = jwt.decode(
    checkout_token,
    signing_key.key,
    algorithms=["EdDSA"],
    audience="alternative-checkout",
    issuer="alternative-sandbox",
    options={"require": ["exp", "iat", "iss", "aud"]},
)
assert jwt.get_unverified_header(checkout_token)["typ"] == "checkout+jwt"
print(f"checkout token verified: invoice={claims['invoice_id']} customer={claims['customer_id']}")

# 4. The checkout API with the checkout token as a plain bearer token.

bearer = {"Authorization": f"Bearer {checkout_token}"}
invoice = requests.get(f"{BASE}/checkout/v1/invoice", headers=bearer, timeout=5).json()
methods = requests.get(f"{BASE}/checkout/v1/payment-methods", headers=bearer, timeout=5).json()
card = next(m for m in methods if m["type"] == "card")
key = str(uuid.uuid4())
paid = requests.post(
    f"{BASE}/checkout/v1/payments",
    headers={**bearer, "Idempotency-Key": key},
    json={"payment_method_id": card["id"], "amount": invoice["total"]},
    timeout=5,
)
again = requests.post(
    f"{BASE}/checkout/v1/payments",
    headers={**bearer, "Idempotency-Key": key},
    json={"payment_method_id": card["id"], "amount": invoice["total"]},
    timeout=5,
)
assert paid.status_code == 201 and again.json() == paid.json(), (paid.text, again.text)
print(f"paid {invoice['invoice_number']}: {paid.json()['id']}, replayed on retry")
print("standard clients: OK")
