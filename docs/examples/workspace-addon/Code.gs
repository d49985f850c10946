/**
 * A Google Workspace add-on (Apps Script) signed in to aurinko_auth with its Google ID token:
 * no cookie, no secret. docs/add-ins.md ("Google Workspace add-ons") explains the set-up:
 *
 *   python manage.py aurinko_app trust CLIENT_ID googleIdToken --audience YOUR_SCRIPT_OAUTH_CLIENT_ID
 *
 * Script properties (Project settings > Script properties): BROKER_URL, CLIENT_ID.
 *
 * ScriptApp.getIdentityToken() is an OpenID Connect ID token of the user running the add-on
 * (the manifest's "openid" scope), issued by https://accounts.google.com for the script's
 * OAuth client: the broker verifies it against Google's keys on every call (keys cached, no
 * outbound request per call) and finds the user by the token's sub.
 */

function settings_() {
  const props = PropertiesService.getScriptProperties();
  return {
    broker: String(props.getProperty("BROKER_URL") || "").replace(/\/$/, ""),
    clientId: props.getProperty("CLIENT_ID"),
  };
}

function identityHeaders_(clientId) {
  return {
    "X-Aurinko-AuthType": "googleIdToken",
    "Authorization": "Bearer " + ScriptApp.getIdentityToken(),
    "X-Aurinko-ClientId": clientId,
  };
}

/** One call to the broker with the identity headers: { status, body }. */
function broker_(method, path) {
  const s = settings_();
  const response = UrlFetchApp.fetch(s.broker + path, {
    method: method,
    headers: identityHeaders_(s.clientId),
    muteHttpExceptions: true,
  });
  const text = response.getContentText();
  return { status: response.getResponseCode(), body: text ? JSON.parse(text) : null };
}

/** The homepage card: the signed-in user's accounts, or a sign-in button. */
function onHomepage(e) {
  const me = broker_("get", "/v1/user");
  if (me.status === 401) return signInCard_();
  if (me.status !== 200) return messageCard_(me.body.code + ": " + me.body.message);
  const section = CardService.newCardSection().setHeader("Signed in as " + me.body.email);
  me.body.accounts.forEach(function (account) {
    section.addWidget(CardService.newTextParagraph().setText(
      account.serviceType + " " + account.type + ": " + account.email));
  });
  return CardService.newCardBuilder().addSection(section).build();
}

/** A prepare token binds the sign-in to this Google identity; the sign-in runs in a window
 * Google opens over the add-on, which reloads when the broker's page closes it. */
function signInCard_() {
  const prepared = broker_("post", "/v1/auth/prepare");
  if (prepared.status !== 200) {
    return messageCard_(prepared.body.code + ": " + prepared.body.message);
  }
  const s = settings_();
  const url = s.broker + "/v1/auth/authorize?clientId=" + encodeURIComponent(s.clientId) +
    "&serviceType=Google&scopes=Mail.Read&userAccount=primary&token=" +
    encodeURIComponent(prepared.body.token);
  const button = CardService.newTextButton()
    .setText("Sign in")
    .setOpenLink(CardService.newOpenLink()
      .setUrl(url)
      .setOpenAs(CardService.OpenAs.OVERLAY)
      .setOnClose(CardService.OnClose.RELOAD_ADD_ON));
  return CardService.newCardBuilder()
    .addSection(CardService.newCardSection().addWidget(button))
    .build();
}

function messageCard_(text) {
  return CardService.newCardBuilder()
    .addSection(CardService.newCardSection().addWidget(CardService.newTextParagraph().setText(text)))
    .build();
}
