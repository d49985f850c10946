"use strict";
// A public client (docs/add-ins.md "Public clients (PKCE)"): start the flow with an S256
// challenge, let chrome.identity.launchWebAuthFlow catch the redirect to
// https://<extension-id>.chromiumapp.org/cb, redeem the code with the verifier (no client
// secret) and read /v1/account. The broker must be in manifest.json's host_permissions
// (the extension's requests then need no CORS answer).
const $ = (id) => document.getElementById(id);
const returnUrl = chrome.identity.getRedirectURL("cb");
const show = (value) => { $("result").textContent = JSON.stringify(value, null, 2); };
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function signIn() {
  const broker = $("broker").value.replace(/\/+$/, "");
  const clientId = $("client-id").value;
  await chrome.storage.local.set({broker, clientId});
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  let back;
  try {
    back = await chrome.identity.launchWebAuthFlow({interactive: true, url:
      broker + "/v1/auth/authorize?" + new URLSearchParams({
        clientId, serviceType: "Google", scopes: "Mail.Read", responseType: "code",
        returnUrl, state, code_challenge: challenge, code_challenge_method: "S256",
      })});
  } catch (error) {
    return show({error: "launchWebAuthFlow", message: error.message});
  }
  const query = new URL(back).searchParams;
  if (query.get("state") !== state) return show({error: "state mismatch"});
  if (query.get("status") !== "success") {
    return show({error: query.get("error"), message: query.get("message")});
  }
  const redeemed = await fetch(`${broker}/v1/auth/token/${encodeURIComponent(query.get("code"))}`, {
    method: "POST",
    // No cookies, and no HTTP auth dialog on a 401 (it answers WWW-Authenticate: Basic).
    credentials: "omit",
    headers: {"X-Aurinko-ClientId": clientId},
    body: new URLSearchParams({code_verifier: verifier}),
  });
  const token = await redeemed.json();
  if (!redeemed.ok) return show({redeem: redeemed.status, ...token});
  // Kept in memory only (chrome.storage.session): an account token is a credential.
  await chrome.storage.session.set({accountId: token.accountId, accessToken: token.accessToken});
  const account = await fetch(`${broker}/v1/account`, {
    credentials: "omit",
    headers: {Authorization: `Bearer ${token.accessToken}`},
  });
  show({account: await account.json()});
}

$("return-url").textContent = returnUrl;
chrome.storage.local.get(["broker", "clientId"]).then((saved) => {
  if (saved.broker) $("broker").value = saved.broker;
  if (saved.clientId) $("client-id").value = saved.clientId;
});
$("sign-in").addEventListener("click", signIn);
