// The Passkeys list page (aurinko_auth.admin.passkeys): after django-otp-webauthn's script
// registered a passkey, show it in the list.
document.addEventListener("otp_webauthn.register_complete", function () {
  window.location.reload();
});
