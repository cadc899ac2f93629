"""A real OpenID Connect provider for the tests, served over HTTP from a thread (issue 21).

Not a mock of the portal's client: the portal's Authlib client talks to it exactly as to
Microsoft or Google — discovery document, authorisation endpoint (the authorisation code flow
with PKCE S256), token endpoint (client authentication, single-use codes, the PKCE verifier
checked) and a JWKS with a freshly generated RSA key that signs real ID tokens (RS256, with
``joserfc``, the JOSE library Authlib itself uses).

It serves both shapes of issuer at once: ``{base}/{tenant}/v2.0`` (Microsoft Entra ID's) and
``{base}`` (Google's). The test says who signs in at the provider (:attr:`Provider.identity`,
claims such as ``email``, ``tid``, ``hd``) and may make the provider misbehave, as a forged or
misconfigured provider would (:attr:`Provider.tamper`: claims put into the ID token over the
right ones, e.g. another ``iss``, ``aud`` or ``nonce``, or an ``exp`` in the past; or
``sign_with_other_key``).

The authorisation endpoint signs the configured identity in without a login page of its own (a
browser test sees one redirect through it), unless ``consent_page`` is set, when it shows a
"Continue" button first.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server


class Provider:
    def __init__(self, port: int):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.first_key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self.key = self.first_key
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1"})
        self.clients: dict[str, dict] = {}  # client_id -> {"secret", "redirect_uris"}
        self.codes: dict[str, dict] = {}
        self.reset()
        self.app = self._make_app()
        self.server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reset(self) -> None:
        self.key = self.first_key  # a test may rotate it
        self.identity: dict = {}
        self.issuer_path = ""  # "/<tenant>/v2.0" for a Microsoft-shaped issuer
        self.tamper: dict = {}
        self.sign_with_other_key = False
        self.consent_page = False
        self.token_requests: list[dict] = []
        self.fetched: list[str] = []  # the discovery and key documents served, in order

    def start(self) -> Provider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    def register(self, client_id: str, secret: str, redirect_uri: str) -> None:
        entry = self.clients.setdefault(client_id, {"secret": secret, "redirect_uris": set()})
        entry["secret"] = secret
        entry["redirect_uris"].add(redirect_uri)

    # ------------------------------------------------------------------------- the server

    def _metadata(self, issuer: str) -> dict:
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{self.base}/authorize",
            "token_endpoint": f"{self.base}/token",
            "jwks_uri": f"{self.base}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile"],
        }

    def _make_app(self) -> Flask:
        app = Flask("test-oidc-provider")
        provider = self

        @app.get("/.well-known/openid-configuration")
        def google_style():
            provider.fetched.append("metadata")
            return jsonify(provider._metadata(provider.base))

        @app.get("/<tenant>/v2.0/.well-known/openid-configuration")
        def microsoft_style(tenant: str):
            provider.fetched.append("metadata")
            return jsonify(provider._metadata(f"{provider.base}/{tenant}/v2.0"))

        @app.get("/jwks")
        def jwks():
            provider.fetched.append("keys")
            return jsonify(KeySet([provider.key]).as_dict(private=False))

        @app.get("/authorize")
        def authorize():
            args = request.args
            client = provider.clients.get(args.get("client_id", ""))
            if client is None or args.get("redirect_uri") not in client["redirect_uris"]:
                abort(400, "unknown client or redirect_uri")
            if args.get("response_type") != "code" or "openid" not in args.get("scope", ""):
                abort(400, "only the code flow with openid")
            if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
                abort(400, "PKCE S256 is required")
            if provider.consent_page and request.args.get("ok") != "1":
                return (f'<!doctype html><title>Test provider</title><h1>Test provider</h1>'
                        f'<p>Sign in as {provider.identity.get("email", "")}?</p>'
                        f'<a id="continue" href="/authorize?{urlencode({**args, "ok": "1"})}">'
                        'Continue</a>')
            code = secrets.token_urlsafe(24)
            provider.codes[code] = {
                "client_id": args["client_id"], "redirect_uri": args["redirect_uri"],
                "nonce": args.get("nonce"), "challenge": args["code_challenge"],
                "at": time.time(),
            }
            return redirect(f"{args['redirect_uri']}?"
                            + urlencode({"code": code, "state": args.get("state", "")}))

        @app.post("/token")
        def token():
            form = request.form
            provider.token_requests.append(dict(form))
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
            if request.authorization and request.authorization.type == "basic":
                client_id = request.authorization.username or ""
                secret = request.authorization.password or ""
            client = provider.clients.get(client_id)
            if client is None or not secrets.compare_digest(client["secret"], secret):
                return jsonify(error="invalid_client"), 401
            grant = provider.codes.pop(form.get("code", ""), None)  # single use
            if (form.get("grant_type") != "authorization_code" or grant is None
                    or grant["client_id"] != client_id
                    or grant["redirect_uri"] != form.get("redirect_uri")):
                return jsonify(error="invalid_grant"), 400
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if digest.rstrip(b"=").decode() != grant["challenge"]:
                return jsonify(error="invalid_grant", error_description="PKCE"), 400
            now = int(time.time())
            claims = {"iss": provider.base + provider.issuer_path, "aud": client_id,
                      "iat": now, "exp": now + 600, "nonce": grant["nonce"],
                      **provider.identity, **provider.tamper}
            claims = {k: v for k, v in claims.items() if v is not None}
            key = provider.other_key if provider.sign_with_other_key else provider.key
            id_token = jwt.encode({"alg": "RS256", "kid": key.as_dict()["kid"]}, claims, key)
            return jsonify(access_token=secrets.token_urlsafe(16), token_type="Bearer",
                           expires_in=3600, id_token=id_token, scope="openid email profile")

        return app
