// After a passkey is registered, reload so the list (and the recovery-code prompt) shows it.
// An external file, not inline script, so the Content-Security-Policy needs no exception.
document.addEventListener("otp_webauthn.register_complete", () => {
  window.setTimeout(() => window.location.reload(), 600);
});
