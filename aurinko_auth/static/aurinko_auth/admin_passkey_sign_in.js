// The admin login's passkey button (aurinko_auth.admin.passkeys): a challenge from the
// server, the browser's WebAuthn assertion, then the login form is sent with it. The server
// checks the password, then the assertion (py_webauthn); this script only carries JSON.
(function () {
  "use strict";
  const button = document.getElementById("passkey-sign-in");
  if (!button) return;
  const form = document.getElementById("login-form");
  const status = document.getElementById("passkey-status");
  const PKC = window.PublicKeyCredential;
  if (!PKC || typeof PKC.parseRequestOptionsFromJSON !== "function") return; // no WebAuthn
  document.getElementById("passkey-row").hidden = false;

  button.addEventListener("click", async function () {
    status.textContent = "";
    if (!form.reportValidity()) return; // username and password first
    button.disabled = true;
    try {
      const response = await fetch(button.dataset.optionsUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "X-CSRFToken": form.elements.csrfmiddlewaretoken.value,
          Accept: "application/json",
        },
      });
      if (!response.ok) throw new Error("the server gave no challenge (" + response.status + ")");
      const options = PKC.parseRequestOptionsFromJSON(await response.json());
      const credential = await navigator.credentials.get({ publicKey: options });
      form.elements.passkey.value = JSON.stringify(credential.toJSON());
      form.elements.otp_token.value = "";
      form.submit();
    } catch (error) {
      status.textContent = "No passkey was used: " + (error && error.message ? error.message : error);
      button.disabled = false;
    }
  });
})();
